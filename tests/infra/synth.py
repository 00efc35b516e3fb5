"""Synthesize the app for the infra tier and read the template as JSON.

Layer bundling is skipped the way CDK offers (context `aws:cdk:bundling-stacks` = []), so no pip
runs for these; test_layers.py bundles the layers for real, once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # after the jsii switches above
from ecrm_infra import topology
from ecrm_infra.stack import STACK_NAME, build_app, project_context

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
# A fixed environment, so the template does not depend on who runs the tests.
TEST_ENV = cdk.Environment(account="123456789012", region="eu-west-1")


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template: dict[str, Any]
    app: cdk.App

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == type_}

    def props(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.template["Resources"][logical_id].get("Properties", {})
        return properties

    def function_id(self, fn: topology.Function) -> str:
        """The logical id of the deployed function, found by its handler (unique per function)."""
        (found,) = [
            k for k, r in self.resources("AWS::Lambda::Function").items() if r["Properties"]["Handler"] == fn.handler
        ]
        return found


def synthesize(outdir: Path, **context: Any) -> Synth:
    app = build_app(outdir=str(outdir), context={**project_context(), **SKIP_BUNDLING, **context}, env=TEST_ENV)
    app.synth()
    return Synth(outdir, json.loads((outdir / f"{STACK_NAME}.template.json").read_text()), app)


def ref_id(value: Any) -> str:
    """The logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])
