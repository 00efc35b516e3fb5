"""Cold import as shipped: the layers with and without the bytecode that infra/ecrm_infra/layers.py compiles.

Lambda's /opt is read-only, so modules without a `__pycache__` are compiled again at every cold
start. Each variant lays out what our layers and a function's asset hold (the function folders, the
`ecrm` package, the dependencies layer's packages copied from this venv) in a directory first on
PYTHONPATH; boto3 and Powertools come from the venv in both, with their bytecode (`make install`
compiles it), as the runtime's boto3 does. Same interpreter, same machine, same run: only the
bytecode differs. Neither variant reads the run's bytecode cache (run.BYTECODE_CACHE): the source
variant compiles in every interpreter, the other reads the `__pycache__` the layers ship.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ecrm_infra.bytecode import compile_bytecode

REPO = Path(__file__).resolve().parents[2]
DEPS_DIR, ECRM_PACKAGE = REPO / "layers" / "deps", REPO / "layers" / "ecrm" / "ecrm"  # as infra/ecrm_infra/layers.py
SAMPLE = ("contacts_capture", "cases_api", "campaign_sender", "loyalty_accrual")  # one per capability
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")


def _requirements() -> list[str]:
    lines = (DEPS_DIR / "requirements.txt").read_text().splitlines()
    return [line.split("==")[0] for line in lines if line.strip() and not line.startswith("#")]


def _closure(names: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """The distributions named and everything they require (extras left out)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        todo += [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in dist.requires or [] if "extra ==" not in r]
    return list(found.values())


def _layout(root: Path) -> int:
    """Lays the shipped packages out under root; how many distributions the dependencies layer holds."""
    dists = _closure(_requirements())
    for dist in dists:
        for file in dist.files or []:
            parts = file.parts
            if ".." in parts or "__pycache__" in parts or parts[0].endswith(".dist-info") or file.suffix == ".pyc":
                continue
            target = root / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(file.locate())), target)
    shutil.copytree(ECRM_PACKAGE, root / ECRM_PACKAGE.name, ignore=_JUNK)
    for name in SAMPLE:
        shutil.copytree(REPO / "functions" / name, root / name, ignore=_JUNK)
    return len(dists)


_PROBE = "import time; t0 = time.perf_counter(); {code}; print(time.perf_counter() - t0)"


def _run(code: str, root: Path, env: dict[str, str]) -> str:
    """`code` in a fresh interpreter with `root` first on its path; its output."""
    env = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}  # each variant's own bytecode, or none
    env |= {"PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}  # the source variant stays source
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def _seconds(code: str, root: Path, env: dict[str, str], runs: int) -> float:
    return statistics.median(float(_run(_PROBE.format(code=code), root, env).split()[-1]) for _ in range(runs))


def report(env: dict[str, str], runs: int, floor: float) -> None:
    """`floor`: seconds of the cold-init floor, measured by the caller in this run."""
    with tempfile.TemporaryDirectory(prefix="bench-bytecode-") as tmp:
        source, bytecode = Path(tmp, "source"), Path(tmp, "bytecode")
        packages = _layout(source)
        shutil.copytree(source, bytecode)
        compile_bytecode(bytecode, sys.executable)
        _check_imported_from(source, env)
        print(
            f"\n== cold import as shipped, median of {runs}: layers without vs with bytecode (floor {floor * 1000:.0f} ms)"
        )
        print(f"{'function':20} {'source ms':>10} {'ratio':>6} {'bytecode ms':>12} {'ratio':>6} {'saved ms':>9}")
        for name in SAMPLE:
            code = f"import {name}.handler"
            cold, warm = _seconds(code, source, env, runs), _seconds(code, bytecode, env, runs)
            print(
                f"{name:20} {cold * 1000:10.0f} {cold / floor:6.2f} {warm * 1000:12.0f} {warm / floor:6.2f}"
                f" {(cold - warm) * 1000:9.0f}"
            )
    print(f"   ({packages} packages of the dependencies layer, the ecrm package and the function)")


def _check_imported_from(root: Path, env: dict[str, str]) -> None:
    """The layout, not the venv's editable install, must be what the variants import."""
    code = f"import ecrm, pydantic, {SAMPLE[0]}.handler as h; print(ecrm.__file__, pydantic.__file__, h.__file__)"
    stray = [f for f in _run(code, root, env).split() if not f.startswith(str(root))]
    if stray:
        raise RuntimeError(f"imported from outside the shipped layout: {stray}")
