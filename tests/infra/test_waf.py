"""infra: a WAF guards the API stage by default, rate-limiting the public routes; context waf=false drops it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ecrm_infra import topology

from tests.infra.synth import Synth, ref_id, synthesize


def test_web_acl_is_associated_with_the_api_stage(synth: Synth) -> None:
    (acl_id,) = synth.resources("AWS::WAFv2::WebACL")
    (association,) = synth.resources("AWS::WAFv2::WebACLAssociation").values()
    assert ref_id(association["Properties"]["WebACLArn"]) == acl_id
    (stage_id,) = synth.resources("AWS::ApiGateway::Stage")
    assert stage_id in json.dumps(association["Properties"]["ResourceArn"])
    assert synth.props(acl_id)["Scope"] == "REGIONAL"


def test_rate_rule_is_scoped_to_exactly_the_public_routes(synth: Synth) -> None:
    (acl,) = synth.resources("AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert "AWSManagedRulesCommonRuleSet" in rules
    rate = rules["PublicRoutesRatePerIp"]
    assert rate["Action"] == {"Block": {}}
    scope = rate["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    pairs = scope["OrStatement"]["Statements"] if "OrStatement" in scope else [scope]
    matched = set()
    for pair in pairs:
        method, path = (s["ByteMatchStatement"] for s in pair["AndStatement"]["Statements"])
        matched.add((method["SearchString"], path["SearchString"]))
    assert matched == {(r.method, r.path) for r, _ in topology.routes() if r.public}


@pytest.fixture(scope="module")
def without_waf(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(Path(tmp_path_factory.mktemp("cdk-no-waf")), waf="false")


def test_context_waf_false_removes_the_web_acl(without_waf: Synth) -> None:
    assert not without_waf.resources("AWS::WAFv2::WebACL")
    assert not without_waf.resources("AWS::WAFv2::WebACLAssociation")
    assert without_waf.resources("AWS::ApiGateway::Stage")
    report = json.loads((without_waf.outdir / "validation-report.json").read_text())
    assert all(p["violations"] == [] for p in report["pluginReports"])  # APIG3 acknowledged, with its reason
