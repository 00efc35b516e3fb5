"""infra: context snapStart=true turns Lambda SnapStart on for the API functions only, and API
Gateway then invokes an alias of the published version (SnapStart snapshots published versions,
never $LATEST); cdk-nag and cfn-lint stay clean. Off (the default), no function has SnapStart, a
version or an alias, and every route invokes the function itself (decision 84)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from ecrm_infra import topology
from ecrm_infra.function import LIVE_ALIAS

from tests.infra.synth import Synth, ref_id, synthesize

API = {fn.name for fn in topology.FUNCTIONS if fn.routes}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(Path(tmp_path_factory.mktemp("cdk-snapstart")), snapStart="true")


def _name(synth: Synth, logical_id: str) -> str:
    return str(synth.props(logical_id)["Handler"]).split(".")[0]


def _uri_targets(method: dict[str, Any]) -> list[Any]:
    """What the integration URI names besides pseudo parameters (AWS::Partition, AWS::Region)."""
    parts = method["Properties"]["Integration"]["Uri"]["Fn::Join"][1]
    return [p for p in parts if isinstance(p, dict) and not str(p.get("Ref", "")).startswith("AWS::")]


def test_snapstart_is_on_for_the_api_functions_only(snap: Synth) -> None:
    on = {
        _name(snap, k)
        for k, r in snap.resources("AWS::Lambda::Function").items()
        if r["Properties"].get("SnapStart") == {"ApplyOn": "PublishedVersions"}
    }
    assert API and on == API
    assert len(snap.resources("AWS::Lambda::Function")) == len(topology.FUNCTIONS)


def test_each_api_function_has_one_live_alias_on_its_published_version(snap: Synth) -> None:
    aliases = snap.resources("AWS::Lambda::Alias").values()
    versions = snap.resources("AWS::Lambda::Version")
    assert {_name(snap, ref_id(a["Properties"]["FunctionName"])) for a in aliases} == API
    for alias in aliases:
        assert alias["Properties"]["Name"] == LIVE_ALIAS
        version = versions[ref_id(alias["Properties"]["FunctionVersion"])]
        assert ref_id(version["Properties"]["FunctionName"]) == ref_id(alias["Properties"]["FunctionName"])
        # each kept version's snapshot is billed: a replaced one is deleted, not retained
        assert version.get("DeletionPolicy", "Delete") == "Delete"
        assert version.get("UpdateReplacePolicy", "Delete") == "Delete"
    assert len(versions) == len(API)


def test_api_gateway_invokes_the_alias_and_may_invoke_only_it(snap: Synth) -> None:
    aliases = set(snap.resources("AWS::Lambda::Alias"))
    methods = [
        m for m in snap.resources("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] != "OPTIONS"
    ]
    assert len(methods) == sum(len(route.api_paths) for route, _ in topology.routes())
    for method in methods:
        (target,) = _uri_targets(method)
        assert ref_id(target) in aliases, target
    permissions = [
        p["Properties"]
        for p in snap.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert permissions and all(ref_id(p["FunctionName"]) in aliases for p in permissions)


def test_with_snapstart_cdk_nag_and_cfn_lint_stay_clean(snap: Synth) -> None:
    report = json.loads((snap.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] and all(p["violations"] == [] for p in report["pluginReports"])
    errors = []
    for name in snap.stacks:
        matches = lint((snap.outdir / name).read_text(), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
        errors += [f"{name}: {m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_by_default_no_function_has_snapstart_a_version_or_an_alias(synth: Synth) -> None:
    assert not any("SnapStart" in r["Properties"] for r in synth.resources("AWS::Lambda::Function").values())
    assert not synth.resources("AWS::Lambda::Version")
    assert not synth.resources("AWS::Lambda::Alias")
    functions = set(synth.resources("AWS::Lambda::Function"))
    for method in synth.resources("AWS::ApiGateway::Method").values():
        if method["Properties"]["HttpMethod"] != "OPTIONS":
            (target,) = _uri_targets(method)
            assert ref_id(target) in functions
