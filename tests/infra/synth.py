"""Synthesize the app for the infra tier and read its templates as JSON: the root stack's and every
capability's nested stack's.

`Synth.template` is all of them as one: each nested stack's resources with its parameters replaced
by what the root passes in, and the root's `Outputs.<name>` of a nested stack replaced by that
output's value. So a property assertion (a function's role, a rule's bus, an alarm's topic) covers
every resource wherever it lives and follows references across stacks as if they were local.
`Synth.stacks` keeps each template as synthesized (what cfn-lint and the resource budget read).

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
ROOT_TEMPLATE = f"{STACK_NAME}.template.json"


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template: dict[str, Any]  # every stack's template as one (see the module's docstring)
    app: cdk.App
    stacks: dict[str, dict[str, Any]]  # template file name -> that template, as synthesized

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

    def table_id(self, spec: topology.Table) -> str:
        """The logical id of the table, found by the stack output naming it."""
        return ref_id(self.template["Outputs"][f"{spec.name}TableName"]["Value"])

    def bucket_id(self, spec: topology.Bucket) -> str:
        """The logical id of the bucket, found by the stack output naming it."""
        return ref_id(self.template["Outputs"][f"{spec.name}BucketName"]["Value"])


def _nested_templates(app: cdk.App, root: cdk.Stack) -> dict[str, str]:
    """Logical id of each nested stack's resource in the root -> its template file."""
    nested = [c for c in app.node.find_all() if isinstance(c, cdk.NestedStack)]
    assert all(n.nested_stack_parent is root for n in nested), "only the root holds nested stacks"
    return {root.resolve(n.nested_stack_resource.logical_id): n.template_file for n in nested}  # type: ignore[union-attr]


def _flatten(root: dict[str, Any], nested: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One template: nested parameters and nested outputs replaced by their values, resources merged."""
    passed = {stack_id: root["Resources"][stack_id]["Properties"].get("Parameters", {}) for stack_id in nested}

    def resolve(value: Any, stack_id: str | None) -> Any:
        if isinstance(value, list):
            return [resolve(v, stack_id) for v in value]
        if not isinstance(value, dict):
            return value
        if stack_id is not None and set(value) == {"Ref"} and value["Ref"] in passed[stack_id]:
            return resolve(passed[stack_id][value["Ref"]], None)
        if stack_id is None and set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in nested:
            target, attribute = value["Fn::GetAtt"]
            output = attribute.removeprefix("Outputs.")
            return resolve(nested[target]["Outputs"][output]["Value"], target)
        return {k: resolve(v, stack_id) for k, v in value.items()}

    resources = {k: resolve(r, None) for k, r in root["Resources"].items()}
    for stack_id, template in nested.items():
        for logical_id, resource in template["Resources"].items():
            assert logical_id not in resources, f"{logical_id} is in two stacks: the merged view would confuse them"
            resources[logical_id] = resolve(resource, stack_id)
    outputs = {k: resolve(o, None) for k, o in root.get("Outputs", {}).items()}
    return {"Resources": resources, "Outputs": outputs, "Parameters": root.get("Parameters", {})}


def synthesize(outdir: Path, **context: Any) -> Synth:
    app = build_app(outdir=str(outdir), context={**project_context(), **SKIP_BUNDLING, **context}, env=TEST_ENV)
    app.synth()
    root_stack = app.node.find_child(STACK_NAME)
    assert isinstance(root_stack, cdk.Stack)
    files = _nested_templates(app, root_stack)
    stacks = {name: json.loads((outdir / name).read_text()) for name in (ROOT_TEMPLATE, *files.values())}
    merged = _flatten(stacks[ROOT_TEMPLATE], {stack_id: stacks[name] for stack_id, name in files.items()})
    return Synth(outdir, merged, app, stacks)


def ref_id(value: Any) -> str:
    """The logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])
