"""Contract: no file the project ships or documents itself with holds a merge's conflict markers
(one reached docs/data-model.md once and stayed for a stop)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("docs", "events", "functions", "infra", "layers", "tests", ".ci")
FILES = ("README.md", "Makefile", "pyproject.toml", "cdk.json")
MARKER = re.compile(r"^(<{7}( .*)?|={7}|>{7}( .*)?)$", re.MULTILINE)
TEXT = {".md", ".py", ".json", ".toml", ".txt", ".yaml", ".yml", ".html", ".sh", ".in", ".lock", ""}


def _shipped() -> list[Path]:
    found = [ROOT / name for name in FILES]
    for tree in TREES:
        found += [
            p for p in (ROOT / tree).rglob("*") if p.is_file() and p.suffix in TEXT and "__pycache__" not in p.parts
        ]
    return found


def test_no_conflict_markers_anywhere():
    files = _shipped()
    assert len(files) > 100  # the walk found the project
    leftovers = [
        f"{p.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
        for p in files
        for text in [p.read_text(encoding="utf-8", errors="replace")]
        for m in MARKER.finditer(text)
    ]
    assert leftovers == []
