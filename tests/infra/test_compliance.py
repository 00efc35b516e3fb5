"""infra: cdk-nag (AwsSolutions) leaves no unacknowledged finding; cfn-lint finds no error."""

from __future__ import annotations

import json

import aws_cdk as cdk
from cfnlint.api import ManualArgs, lint

from tests.infra.synth import Synth


def test_cdk_nag_ran_and_left_no_unacknowledged_finding(synth: Synth) -> None:
    # cdk-nag 3 reports through CDK policy validation; app.synth() raises on a failing report, and
    # this says so explicitly (and that the plugin ran at all).
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    plugins = {p["pluginName"]: p for p in report["pluginReports"]}
    assert "AwsSolutions" in plugins
    assert plugins["AwsSolutions"]["conclusion"] == "success"
    assert plugins["AwsSolutions"]["violations"] == []


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


def test_cfn_lint_reports_no_errors(synth: Synth) -> None:
    template = (synth.outdir / "Ecrm.template.json").read_text()
    matches = lint(template, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
