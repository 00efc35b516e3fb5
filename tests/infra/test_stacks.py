"""infra: the app's shape. A root stack holds the platform, each capability has a nested stack of its
own, every stack stays well under CloudFormation's 500 resources, stacks share values only as
nested-stack parameters (no exports), and a change of routes makes a new API deployment."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from ecrm_infra import topology
from ecrm_infra.topology import Route

from tests.infra.synth import ROOT_TEMPLATE, Synth, synthesize

CLOUDFORMATION_LIMIT = 500
BUDGET = 200  # 40 % of the limit: room for each stack to grow, and for a new capability's stack


def _count(template: dict[str, Any]) -> int:
    return len(template["Resources"])


def test_every_stack_stays_within_the_resource_budget(synth: Synth) -> None:
    print()
    for name, template in sorted(synth.stacks.items(), key=lambda item: -_count(item[1])):
        print(f"{_count(template):4d} resources  {name}")
    over = {name: _count(t) for name, t in synth.stacks.items() if _count(t) > BUDGET}
    assert not over, f"above {BUDGET} resources ({CLOUDFORMATION_LIMIT} is CloudFormation's limit): {over}"


def _nested(synth: Synth, capability: topology.Capability) -> dict[str, Any]:
    (name,) = [
        n for n in synth.stacks if n.startswith(f"Ecrm{capability.name}") and n.endswith(".nested.template.json")
    ]
    return synth.stacks[name]


@pytest.mark.parametrize("capability", topology.CAPABILITIES, ids=lambda c: c.name)
def test_each_capability_holds_its_tables_functions_queues_routes_and_alarms(
    synth: Synth, capability: topology.Capability
) -> None:
    resources = _nested(synth, capability)["Resources"]

    def count(type_: str) -> int:
        return sum(1 for r in resources.values() if r["Type"] == type_)

    handlers = {r["Properties"]["Handler"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"}
    assert handlers == {fn.handler for fn in capability.functions}
    assert {synth.table_id(t) for t in capability.tables} <= set(resources)
    assert count("AWS::DynamoDB::Table") == len(capability.tables)
    queued = [fn for fn in capability.functions if fn.queue]
    streamed = [fn for fn in capability.functions if fn.stream]
    assert count("AWS::SQS::Queue") == 2 * len(queued) + len(streamed)  # each with its DLQ; a stream's DLQ
    routes = [r for fn in capability.functions for r in fn.routes]
    methods = sum(len(r.api_paths) for r in routes)  # staff (or public), machine
    assert count("AWS::ApiGateway::Method") - count("AWS::ApiGateway::Resource") == methods  # + one OPTIONS each
    # errors per function, depth per DLQ, its own metrics, and a stream reader's iterator age
    alarms = len(capability.functions) + len(queued) + 2 * len(streamed) + len(capability.alarms)
    assert count("AWS::CloudWatch::Alarm") == alarms


def test_the_root_holds_the_platform_and_no_capabilitys_resources(synth: Synth) -> None:
    types = {r["Type"] for r in synth.stacks[ROOT_TEMPLATE]["Resources"].values()}
    assert {
        "AWS::Events::EventBus",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::Cognito::UserPool",
    } <= types
    assert not types & {"AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Events::Rule"}
    stacks = [r for r in synth.stacks[ROOT_TEMPLATE]["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert len(stacks) == len(topology.CAPABILITIES)


def test_stacks_share_values_as_nested_parameters_never_as_exports(synth: Synth) -> None:
    # An exported value cannot change while another stack imports it: it would lock both stacks.
    for name, template in synth.stacks.items():
        assert "Fn::ImportValue" not in json.dumps(template), name
        assert not [o for o in template.get("Outputs", {}).values() if "Export" in o], name


def _deployment(synth: Synth) -> tuple[str, dict[str, Any]]:
    ((deployment_id, deployment),) = synth.resources("AWS::ApiGateway::Deployment").items()
    return deployment_id, deployment


def test_the_stage_deploys_after_every_capabilitys_routes(synth: Synth) -> None:
    deployment_id, deployment = _deployment(synth)
    nested = {
        k for k, r in synth.stacks[ROOT_TEMPLATE]["Resources"].items() if r["Type"] == "AWS::CloudFormation::Stack"
    }
    assert nested <= set(deployment["DependsOn"])
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["DeploymentId"] == {"Ref": deployment_id}


@pytest.fixture(scope="module")
def with_one_more_route(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> Synth:
    contacts = next(c for c in topology.CAPABILITIES if c.name == "Contacts")
    api = next(fn for fn in contacts.functions if fn.name == "contacts_api")
    more = dataclasses.replace(api, routes=(*api.routes, Route("GET", "/contacts/{contact_id}/notes", ("admin",))))
    changed = dataclasses.replace(contacts, functions=tuple(more if f is api else f for f in contacts.functions))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topology, "CAPABILITIES", tuple(changed if c is contacts else c for c in topology.CAPABILITIES))
        return synthesize(Path(tmp_path_factory.mktemp("cdk-one-more-route")))


def test_a_change_of_routes_makes_a_new_deployment(synth: Synth, with_one_more_route: Synth) -> None:
    before, after = _deployment(synth)[0], _deployment(with_one_more_route)[0]
    assert before != after  # CloudFormation replaces the deployment, so the stage serves the new route
    (stage,) = with_one_more_route.resources("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["DeploymentId"] == {"Ref": after}


def _contacts_api_as(capability: str, path: str) -> topology.Capability:
    """A made-up capability: the contacts API's function (code, env, grants) routed at `path`."""
    api = topology.function("contacts_api")
    return topology.Capability(
        capability, functions=(dataclasses.replace(api, routes=(Route("GET", path, ("admin",)),)),)
    )


@pytest.fixture(scope="module")
def with_a_new_capability(tmp_path_factory: pytest.TempPathFactory, synth: Synth) -> Synth:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topology, "CAPABILITIES", (*topology.CAPABILITIES, _contacts_api_as("Insights", "/insights")))
        return synthesize(Path(tmp_path_factory.mktemp("cdk-new-capability")))


def test_a_new_capability_adds_its_stack_and_changes_no_other_capabilitys_resources(
    synth: Synth, with_a_new_capability: Synth
) -> None:
    assert len(with_a_new_capability.stacks) == len(synth.stacks) + 1
    for capability in topology.CAPABILITIES:  # it reads the Contacts table: an output more, nothing else
        assert _nested(with_a_new_capability, capability)["Resources"] == _nested(synth, capability)["Resources"]
    before, after = synth.stacks[ROOT_TEMPLATE]["Resources"], with_a_new_capability.stacks[ROOT_TEMPLATE]["Resources"]
    changed = {after[k]["Type"] for k in after if before.get(k) != after[k]} | {
        before[k]["Type"] for k in before if k not in after
    }
    # Its nested stack, the dashboard's widgets, and the API deployment its route needs.
    assert changed == {
        "AWS::CloudFormation::Stack",
        "AWS::CloudWatch::Dashboard",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
    }


BELOW_CONTACTS = _contacts_api_as("Notes", "/contacts/{contact_id}/notes/{note_id}")


@pytest.fixture(scope="module")
def with_a_route_below_another_capabilitys(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topology, "CAPABILITIES", (*topology.CAPABILITIES, BELOW_CONTACTS))
        return synthesize(Path(tmp_path_factory.mktemp("cdk-route-below")))


def _api_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Resource"}


def test_a_capability_routes_below_anothers_resource_taking_it_by_id(
    synth: Synth, with_a_route_below_another_capabilitys: Synth
) -> None:
    # Two stacks making /contacts/{contact_id} would be two resources of one path, which API Gateway
    # refuses: the later stack takes the earlier one's resource by id and makes only what is new.
    later = _nested(with_a_route_below_another_capabilitys, BELOW_CONTACTS)
    made = _api_resources(later)
    assert sorted(r["Properties"]["PathPart"] for r in made.values()) == ["notes", "{note_id}"]
    notes_id = next(k for k, r in made.items() if r["Properties"]["PathPart"] == "notes")
    parent = made[notes_id]["Properties"]["ParentId"]
    assert list(parent) == ["Ref"] and parent["Ref"] in later["Parameters"]  # passed in by the root
    contacts = next(c for c in topology.CAPABILITIES if c.name == "Contacts")
    before, after = _nested(synth, contacts), _nested(with_a_route_below_another_capabilitys, contacts)
    assert after["Resources"] == before["Resources"]  # an output more, nothing else
    merged = with_a_route_below_another_capabilitys.template["Resources"]
    owner = next(k for k, r in _api_resources(before).items() if r["Properties"]["PathPart"] == "{contact_id}")
    assert merged[notes_id]["Properties"]["ParentId"] == {"Ref": owner}
    # every resource still has one maker: no path is made twice across the stacks
    made_anywhere = _api_resources({"Resources": merged}).values()
    paths = [(json.dumps(r["Properties"]["ParentId"]), r["Properties"]["PathPart"]) for r in made_anywhere]
    assert len(paths) == len(set(paths))
