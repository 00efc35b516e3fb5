"""infra: loyalty's wiring in the template: the shop's events reach accrual, Scheduler reaches upkeep."""

from __future__ import annotations

from typing import Any

from ecrm.loyalty.names import DetailType, Env, Resource
from ecrm.names import Source
from ecrm_infra import topology

from tests.infra.synth import Synth, ref_id

ACCRUAL = topology.function("loyalty_accrual")
UPKEEP = topology.function("loyalty_upkeep")
LOYALTY = [fn for cap in topology.CAPABILITIES if cap.name == "Loyalty" for fn in cap.functions]
TIMED = [fn for fn in LOYALTY if Resource.LOYALTY_SCHEDULES in fn.grants]  # those that set timers


def _consumed_queue(synth: Synth, fn: topology.Function) -> str:
    (arn,) = [
        m["Properties"]["EventSourceArn"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": synth.function_id(fn)}
    ]
    return ref_id(arn)


def _rules_into(synth: Synth, queue_id: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if any(ref_id(t["Arn"]) == queue_id for t in r["Properties"]["Targets"])
    ]


def _env(synth: Synth, fn: topology.Function) -> dict[str, Any]:
    variables: dict[str, Any] = synth.props(synth.function_id(fn))["Environment"]["Variables"]
    return variables


def test_only_the_shops_order_events_reach_the_accrual_queue(synth: Synth) -> None:
    (rule,) = _rules_into(synth, _consumed_queue(synth, ACCRUAL))
    assert rule["EventPattern"] == {
        "source": [Source.SHOP],
        "detail-type": [DetailType.ORDER_PLACED, DetailType.ORDER_REFUNDED],
    }
    assert synth.template["Resources"][ref_id(rule["EventBusName"])]["Type"] == "AWS::Events::EventBus"
    (target,) = rule["Targets"]
    assert "DeadLetterConfig" in target  # what EventBridge cannot deliver is kept too


def test_the_upkeep_queue_takes_contact_erasures_and_is_schedulers_target(synth: Synth) -> None:
    queue_id = _consumed_queue(synth, UPKEEP)
    (rule,) = _rules_into(synth, queue_id)
    assert rule["EventPattern"] == {"source": [Source.CONTACTS], "detail-type": [DetailType.CONTACT_ERASED]}
    # Every loyalty function that sets timers names this one queue (Scheduler delivers there, or it sends itself).
    assert {fn.name for fn in TIMED} == {"loyalty_accrual", "loyalty_upkeep", "loyalty_api"}
    for fn in TIMED:
        env = _env(synth, fn)
        assert ref_id(env[Env.LOYALTY_TIMER_QUEUE_ARN]) == queue_id
        assert ref_id(env[Env.LOYALTY_TIMER_QUEUE_URL]) == queue_id
        assert ref_id(env[Env.SCHEDULER_ROLE]) == _scheduler_role(synth)


def _scheduler_role(synth: Synth) -> str:
    (role_id,) = [
        k
        for k, r in synth.resources("AWS::IAM::Role").items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "scheduler.amazonaws.com"
    ]
    return role_id


def test_the_scheduler_role_may_send_to_the_upkeep_queue_and_only_to_timer_queues(synth: Synth) -> None:
    role = _scheduler_role(synth)
    statements = [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    targets = {
        ref_id(r) for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    timer_queues = {_consumed_queue(synth, fn) for fn in topology.FUNCTIONS if fn.queue and fn.queue.scheduler_target}
    assert _consumed_queue(synth, UPKEEP) in targets
    assert _consumed_queue(synth, ACCRUAL) not in targets
    assert targets == timer_queues
    assert all("sqs:SendMessage" in s["Action"] for s in statements)


def test_loyalty_functions_manage_schedules_only_in_the_stacks_group_and_pass_only_the_scheduler_role(
    synth: Synth,
) -> None:
    (group,) = [g for g in synth.resources("AWS::Scheduler::ScheduleGroup") if Resource.LOYALTY_SCHEDULES in g]
    for fn in TIMED:
        role = ref_id(synth.props(synth.function_id(fn))["Role"])
        statements = [
            s
            for p in synth.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        (schedules,) = [s for s in statements if "scheduler:CreateSchedule" in s["Action"]]
        parts = schedules["Resource"]["Fn::Join"][1]
        assert {"Ref": group} in parts and parts[-1] == "/*"
        (passing,) = [s for s in statements if s["Action"] == "iam:PassRole"]
        assert ref_id(passing["Resource"]) == _scheduler_role(synth)
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_every_loyalty_route_needs_a_signed_in_caller(synth: Synth) -> None:
    loyalty_routes = [r for r, fn in topology.routes() if fn in LOYALTY]
    assert len(loyalty_routes) == 6 and not any(r.public for r in loyalty_routes)
    methods = [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    ]
    cognito = [m for m in methods if m.get("AuthorizationType") == "COGNITO_USER_POOLS"]
    assert len(cognito) == sum(len(r.api_paths) for r, _ in topology.routes() if not r.public)


def test_loyalty_alarms_watch_malformed_shop_events(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    (malformed,) = [a for a in alarms if a["MetricName"] == "ShopEventMalformed"]
    assert (malformed["Threshold"], malformed["Namespace"]) == (0, "eCRM")


def test_the_programme_function_only_keeps_the_document(synth: Synth) -> None:
    programme = topology.function("loyalty_programme")
    assert programme.grants == {Resource.LOYALTY_TABLE: topology.Access.READ | topology.Access.PUT}
    assert set(_env(synth, programme)) == {
        Env.LOYALTY_TABLE,
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
    }
