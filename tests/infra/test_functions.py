"""infra: each function's runtime, code, layers and environment match the topology and its settings model."""

from __future__ import annotations

import pytest
from ecrm_infra import topology, versions

from tests.infra.synth import Synth

OBSERVABILITY = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}


def _by_name(fn: topology.Function) -> str:
    return fn.name


def _aliases(fn: topology.Function) -> set[str]:
    return {field.alias or name for name, field in fn.settings.model_fields.items()}


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=_by_name)
def test_environment_is_exactly_the_settings_model_plus_observability(synth: Synth, fn: topology.Function) -> None:
    env = synth.props(synth.function_id(fn))["Environment"]["Variables"]
    assert set(env) == _aliases(fn) | OBSERVABILITY


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=_by_name)
def test_the_settings_model_validates_the_deployed_environment(synth: Synth, fn: topology.Function) -> None:
    env = synth.props(synth.function_id(fn))["Environment"]["Variables"]
    # Values resolved at deploy time (Ref/GetAtt) stand in as dummy strings; literals must validate as they are.
    plain = {k: v if isinstance(v, str) else f"deploy-time-{k}" for k, v in env.items()}
    fn.settings.from_env(plain)


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=_by_name)
def test_runtime_handler_sizing_and_tracing(synth: Synth, fn: topology.Function) -> None:
    props = synth.props(synth.function_id(fn))
    assert props["Runtime"] == versions.PYTHON_RUNTIME
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == fn.handler
    assert props["Timeout"] == fn.timeout_seconds
    assert props["MemorySize"] == fn.memory_mb
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert synth.template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Type"] == "AWS::Logs::LogGroup"


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=_by_name)
def test_code_asset_holds_this_function_folder_only(synth: Synth, fn: topology.Function) -> None:
    zip_name = synth.props(synth.function_id(fn))["Code"]["S3Key"]
    asset = synth.outdir / f"asset.{zip_name.removesuffix('.zip')}"
    assert {p.name for p in asset.iterdir()} == {fn.name}
    assert (asset / fn.name / "handler.py").is_file()
    assert not list(asset.rglob("__pycache__"))


def test_layers_come_in_order_powertools_then_deps_then_ecrm(synth: Synth) -> None:
    layer_ids = list(synth.resources("AWS::Lambda::LayerVersion"))
    for fn in topology.FUNCTIONS:
        powertools, deps, ecrm = synth.props(synth.function_id(fn))["Layers"]
        # AWS's public parameter for the pinned release, read by CloudFormation at deploy time.
        parameter = synth.template["Parameters"][powertools["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        assert parameter["Default"] == f"/aws/service/powertools/python/arm64/python3.12/{versions.POWERTOOLS_VERSION}"
        assert deps["Ref"] in layer_ids and ecrm["Ref"] in layer_ids
        assert "dependencies" in synth.props(deps["Ref"])["Description"]
        assert "ecrm package" in synth.props(ecrm["Ref"])["Description"]


def test_powertools_is_pinned_to_the_same_version_locally() -> None:
    from importlib.metadata import version

    assert version("aws-lambda-powertools") == versions.POWERTOOLS_VERSION  # read from pyproject.toml's pin
