"""infra: the layers really bundle without Docker (pip from PyPI, once), into the layout Lambda expects.

Only the Layers construct is synthesized here, in a stack of its own, so this is the one test that
pays for pip; the full stack's tests skip bundling.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from ecrm_infra.bytecode import RUNTIME_VERSION, compile_bytecode, runtime_interpreter
from ecrm_infra.layers import Layers

from tests.infra.synth import TEST_ENV

LOCK = Path(__file__).resolve().parents[2] / "requirements" / "dev.lock"


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


UNCHECKED_HASH = 0b01  # PEP 552 flags word: hash-based, source not checked


def _bytecode_of(module: Path, tag: str) -> Path:
    return module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"


def _flags(pyc: Path) -> int:
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_layers_ship_bytecode_for_lambdas_python_when_this_machine_has_one(layer_assets: dict[str, Path]) -> None:
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    ecrm = _asset(layer_assets, "ecrm package") / "python"
    deps = _asset(layer_assets, "dependencies") / "python"
    if runtime_interpreter() is None:  # then synthesis warned, and the layers are source only
        assert not list(ecrm.rglob("*.pyc")) and not list(deps.rglob("*.pyc"))
        return
    modules = list(ecrm.rglob("*.py"))
    missing = [m for m in modules if not _bytecode_of(m, tag).is_file()]
    assert modules and not missing, missing[:5]
    assert {_flags(_bytecode_of(m, tag)) for m in modules} == {UNCHECKED_HASH}
    assert _flags(_bytecode_of(deps / "pydantic" / "main.py", tag)) == UNCHECKED_HASH
    assert not [p for p in ecrm.rglob("*.pyc") if tag not in p.name]  # nothing for this machine's Python


def test_bytecode_is_hash_based_so_zip_file_times_do_not_matter(tmp_path: Path) -> None:
    module = tmp_path / "python" / "pkg" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text("VALUE = 1\n")
    assert compile_bytecode(tmp_path / "python", sys.executable)
    pyc = _bytecode_of(module, sys.implementation.cache_tag)
    assert _flags(pyc) == UNCHECKED_HASH


def test_without_an_interpreter_of_lambdas_version_the_layer_is_source_only(tmp_path: Path, capsys) -> None:
    (tmp_path / "mod.py").write_text("VALUE = 1\n")
    assert runtime_interpreter("2.1") is None
    assert not compile_bytecode(tmp_path, None)
    assert not list(tmp_path.rglob("*.pyc"))
    assert "without bytecode" in capsys.readouterr().err


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every requirement in a uv-compiled file that applies to this interpreter."""
    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not an exact pin"
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def canonicalize_name(name: str) -> str:
    from packaging.utils import canonicalize_name as canonical

    return str(canonical(name))


def test_this_venv_holds_exactly_what_the_lock_pins() -> None:
    from importlib.metadata import version

    locked = _pins(LOCK)
    assert {"pydantic", "boto3", "moto", "aws-cdk-lib", "uv"} <= set(locked)
    drift = {name: (pin, version(name)) for name, pin in locked.items() if version(name) != pin}
    assert not drift, f"(lock, installed) differ: {drift}; run `make install` (or `make lock` to upgrade)"


def test_dependencies_layer_pins_what_the_tests_run_with() -> None:
    from ecrm_infra.layers import DEPS_DIR

    layer, locked = _pins(DEPS_DIR / "requirements.txt"), _pins(LOCK)
    assert {"pydantic", "pydantic-core", "typing-extensions", "tzdata"} <= set(layer)  # the whole closure
    diverged = {name: (pin, locked.get(name)) for name, pin in layer.items() if locked.get(name) != pin}
    assert not diverged, f"(layer, lock) differ: {diverged}; run `make lock`"


def _layer_keys(tmp_path: Path) -> set[str]:
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "LayersOnly", env=TEST_ENV)
    Layers(stack, "Layers", architecture=lambda_.Architecture.ARM_64)
    resources = app.synth().get_stack_by_name("LayersOnly").template["Resources"]
    return {r["Properties"]["Content"]["S3Key"] for r in resources.values() if r["Type"] == "AWS::Lambda::LayerVersion"}


def test_bytecode_or_none_is_part_of_the_layers_asset_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A deploy from a machine with Lambda's Python after one without must not keep the source-only layers.
    import ecrm_infra.layers

    monkeypatch.setattr(ecrm_infra.layers, "runtime_interpreter", lambda: None)
    source_only = _layer_keys(tmp_path / "a")
    monkeypatch.setattr(ecrm_infra.layers, "runtime_interpreter", lambda: sys.executable)
    with_bytecode = _layer_keys(tmp_path / "b")
    assert len(source_only) == len(with_bytecode) == 2
    assert not source_only & with_bytecode
