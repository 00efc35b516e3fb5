"""infra: the layers really bundle without Docker (pip from PyPI, once), into the layout Lambda expects.

Only the Layers construct is synthesized here, in a stack of its own, so this is the one test that
pays for pip; the full stack's tests skip bundling.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from ecrm_infra.layers import Layers

from tests.infra.synth import TEST_ENV


@pytest.fixture(scope="module")
def layer_assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    outdir = tmp_path_factory.mktemp("cdk-layers")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "LayersOnly", env=TEST_ENV)
    Layers(stack, "Layers", architecture=lambda_.Architecture.ARM_64)
    app.synth()
    template = json.loads((outdir / "LayersOnly.template.json").read_text())
    return {
        r["Properties"]["Description"]: outdir / f"asset.{r['Properties']['Content']['S3Key'].removesuffix('.zip')}"
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    }


def _asset(assets: dict[str, Path], word: str) -> Path:
    (path,) = [p for description, p in assets.items() if word in description]
    return path


def test_dependencies_layer_holds_pydantic_built_for_lambda_arm64(layer_assets: dict[str, Path]) -> None:
    python = _asset(layer_assets, "dependencies") / "python"
    assert (python / "pydantic" / "__init__.py").is_file()
    (core,) = (python / "pydantic_core").glob("_pydantic_core.*.so")
    assert "cpython-312-aarch64-linux-gnu" in core.name  # Lambda's interpreter and CPU, not this machine's


def test_ecrm_layer_puts_the_package_under_python(layer_assets: dict[str, Path]) -> None:
    root = _asset(layer_assets, "ecrm package")
    assert [p.name for p in root.iterdir()] == ["python"]
    assert (root / "python" / "ecrm" / "settings.py").is_file()
    assert not list(root.rglob("__pycache__"))


def test_dependencies_layer_pins_what_the_tests_run_with() -> None:
    from importlib.metadata import version

    from ecrm_infra.layers import DEPS_DIR

    lines = (DEPS_DIR / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line.strip() and not line.startswith("#"))
    assert pins
    for package, pinned in pins.items():
        assert version(package) == pinned, f"{package}: layer has {pinned}, this venv {version(package)}"
