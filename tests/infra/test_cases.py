"""infra: what the cases capability needs of the stack: Scheduler delivers only to the timer queue,
the functions that set timers point at it and pass only the Scheduler role, no writer outlives the
timers' safety margin, the SLA breach alarm, the Cases table's indexes."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm.cases.names import Env, Resource
from ecrm.cases.writer import SAFETY
from ecrm.imports.names import Resource as ImportsResource
from ecrm_infra import topology
from ecrm_infra.topology import Access

from tests.infra.synth import Synth, ref_id

SETTERS = [f for f in topology.FUNCTIONS if Access.SCHEDULE in f.grants.get(Resource.CASE_SCHEDULES, Access(0))]
CASES_SETTERS = [f for f in SETTERS if f.name.startswith("cases_")]


def _queue_of(synth: Synth, fn: topology.Function) -> str:
    (arn,) = [
        m["Properties"]["EventSourceArn"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": synth.function_id(fn)}
    ]
    return ref_id(arn)


def _statements_of_role(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    return [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_cases_functions_set_timers() -> None:
    assert {f.name for f in CASES_SETTERS} == {
        "cases_form",
        "cases_api",
        "cases_intake",
        "cases_timers",
        "cases_recompute",
    }


def test_the_scheduler_role_sends_only_to_timer_queues(synth: Synth) -> None:
    (role_id,) = [k for k in synth.resources("AWS::IAM::Role") if "SchedulerRole" in k]
    sends = [s for s in _statements_of_role(synth, role_id) if "sqs:SendMessage" in s["Action"]]
    targets = {
        ref_id(r) for s in sends for r in ([s["Resource"]] if isinstance(s["Resource"], dict) else s["Resource"])
    }
    timer_queues = {_queue_of(synth, f) for f in topology.FUNCTIONS if f.queue and f.queue.scheduler_target}
    assert targets == timer_queues
    assert _queue_of(synth, topology.function("cases_timers")) in targets
    others = {"cases_intake", "cases_recompute", "cases_mailer", "cases_erasure"}
    assert not {_queue_of(synth, topology.function(name)) for name in others} & targets


@pytest.mark.parametrize("fn", CASES_SETTERS, ids=lambda f: f.name)
def test_timer_setters_point_at_the_timer_queue_and_pass_only_the_scheduler_role(
    synth: Synth, fn: topology.Function
) -> None:
    env = synth.props(synth.function_id(fn))["Environment"]["Variables"]
    timer_queue = _queue_of(synth, topology.function("cases_timers"))
    assert env[Env.CASE_TIMER_QUEUE_ARN] == {"Fn::GetAtt": [timer_queue, "Arn"]}
    assert env[Env.CASE_TIMER_QUEUE_URL] == {"Ref": timer_queue}
    role_id = ref_id(synth.props(synth.function_id(fn))["Role"])
    (pass_role,) = [s for s in _statements_of_role(synth, role_id) if s["Action"] == "iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    assert "SchedulerRole" in ref_id(pass_role["Resource"])
    (schedule,) = [s for s in _statements_of_role(synth, role_id) if "scheduler:CreateSchedule" in s["Action"]]
    assert ":schedule/" in str(schedule["Resource"]) and Resource.CASE_SCHEDULES in str(schedule["Resource"])


@pytest.mark.parametrize("fn", SETTERS, ids=lambda f: f.name)
def test_no_timer_setter_runs_longer_than_the_arming_margin(fn: topology.Function) -> None:
    # A timer set before its write never fires sooner than the margin: the writer must be done by then.
    assert fn.timeout_seconds < SAFETY.total_seconds()


def test_the_cases_table_has_the_four_sparse_indexes(synth: Synth) -> None:
    (spec,) = [t for t in topology.TABLES if t.name == Resource.CASES_TABLE]
    table = synth.template["Resources"][synth.table_id(spec)]
    assert [g["IndexName"] for g in table["Properties"]["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2", "gsi3", "gsi4"]


def test_sla_breaches_raise_an_alarm(synth: Synth) -> None:
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "SlaBreached"
    ]
    assert alarm["Namespace"] == "eCRM" and alarm["Dimensions"] == [{"Name": "service", "Value": "ecrm"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 3600, 10)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_only_the_admin_function_may_queue_replanning(synth: Synth) -> None:
    senders = {
        f.name for f in topology.FUNCTIONS if Access.SEND in f.grants.get(Resource.CASE_RECOMPUTE_QUEUE, Access(0))
    }
    assert senders == {"cases_admin", "cases_recompute"}  # the edit, and the pages it sends on


def test_the_intake_queue_is_a_stack_output_for_the_systems_that_send_to_it(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    intake = _queue_of(synth, topology.function("cases_intake"))
    assert outputs[f"{Resource.CASE_INTAKE_QUEUE}Url"]["Value"] == {"Ref": intake}
    assert outputs[f"{Resource.CASE_INTAKE_QUEUE}Arn"]["Value"] == {"Fn::GetAtt": [intake, "Arn"]}
    assert f"{Resource.CASE_MAIL_QUEUE}Url" not in outputs  # fed by a rule: nobody else sends there
    fed_by_us = (ImportsResource.IMPORT_QUEUE, ImportsResource.EXPORT_QUEUE, Resource.CASE_RECOMPUTE_QUEUE)
    assert not [name for name in fed_by_us if f"{name}Url" in outputs]  # our own functions send there
