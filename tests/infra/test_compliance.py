"""infra: cdk-nag (AwsSolutions) leaves no unacknowledged finding in any stack; cfn-lint finds no error
in any template (the root's and every capability's nested stack's)."""

from __future__ import annotations

import json

import aws_cdk as cdk
from cfnlint.api import ManualArgs, lint
from ecrm_infra import topology

from tests.infra.synth import Synth


def test_cdk_nag_ran_on_every_stack_and_left_no_unacknowledged_finding(synth: Synth) -> None:
    # cdk-nag 3 reports through CDK policy validation; app.synth() raises on a failing report, and
    # this says so explicitly (and that the plugin ran at all, once per stack).
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    plugins = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert len(plugins) == len(synth.stacks)
    for plugin in plugins:
        assert plugin["conclusion"] == "success"
        assert plugin["violations"] == []
    # Every capability's stack was read: each holds findings that were acknowledged (its roles' X-Ray "*").
    checked = {
        construct["constructPath"].split("/")[1]
        for plugin in plugins
        for finding in plugin["suppressedViolations"]
        for construct in finding["violatingConstructs"]
    }
    assert {cap.name for cap in topology.CAPABILITIES} <= checked


def test_every_acknowledged_finding_has_a_written_reason(synth: Synth) -> None:
    acknowledged: dict[str, str] = {}  # "path rule id" -> reason
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.update({f"{construct.node.path} {rule}": why for rule, why in entry.data.items()})
    assert acknowledged, "no acknowledgement found: has the metadata key changed?"
    for where, reason in acknowledged.items():
        assert where.split()[1].startswith("AwsSolutions::AwsSolutions-")
        assert len(reason) > 40, where


def test_cfn_lint_reports_no_errors_in_any_template(synth: Synth) -> None:
    assert len(synth.stacks) == 1 + len(topology.CAPABILITIES)
    errors = []
    for name in synth.stacks:
        matches = lint((synth.outdir / name).read_text(), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
        errors += [
            f"{name}: {m.rule.id} {m.message} ({'/'.join(map(str, m.path))})"
            for m in matches
            if m.rule.id.startswith("E")
        ]
    assert errors == []
