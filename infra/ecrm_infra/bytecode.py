"""Bytecode for Lambda's Python, compiled at synthesis (docs/decisions.md, 48). Plain Python: no CDK import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ecrm_infra import versions

RUNTIME_VERSION = versions.PYTHON_RUNTIME.removeprefix("python")  # "3.12"
BYTECODE_PYTHON_VAR = "ECRM_LAMBDA_PYTHON"  # path of a Python of RUNTIME_VERSION, when not on PATH


def runtime_interpreter(version: str = RUNTIME_VERSION) -> str | None:
    """A Python of Lambda's version on this machine, else None.

    `$ECRM_LAMBDA_PYTHON` if set, else this interpreter when its version matches, else
    `python3.12` on PATH; each is asked its version (a pyenv shim of an inactive version fails).
    """
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version and not os.environ.get(BYTECODE_PYTHON_VAR):
        return sys.executable
    found = os.environ.get(BYTECODE_PYTHON_VAR) or shutil.which(f"python{version}")
    if not found:
        return None
    probe = [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    answer = subprocess.run(probe, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    return found if answer.returncode == 0 and answer.stdout.strip() == version else None


def compile_bytecode(root: Path, interpreter: str | None) -> bool:
    """Writes `__pycache__` beside every module under root; False (and a warning) without an interpreter.

    Hash-based and unchecked: the .pyc is used as is, whatever the file times in the asset zip, and
    the layer is immutable, so there is no source change to check for.
    """
    if interpreter is None:
        print(
            f"warning: no python{RUNTIME_VERSION} here (set {BYTECODE_PYTHON_VAR}); the layer ships without "
            "bytecode and Lambda compiles it at every cold start",
            file=sys.stderr,
        )
        return False
    command = [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(root)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed argv, no shell
    return True
