"""integration: every campaigns sample event in events/ is taken by the function its trigger names,
under moto (unknown ids answer 404 or change nothing; nothing answers 5xx or fails a record)."""

from __future__ import annotations

import json
from pathlib import Path

from ecrm.campaigns.models import SendBatch
from ecrm.campaigns.runs import PlanCommand
from ecrm_infra import topology
from ecrm_infra.topology.campaigns import CAMPAIGNS
from ecrm_local import lambdas

from tests.support import Stack

EVENTS = Path(__file__).resolve().parents[2] / "events"
OURS = {fn.name for fn in CAMPAIGNS.functions}
ROUTES = {(r.method, r.path): fn.name for r, fn in topology.routes() if fn.name in OURS}
QUEUES = {trigger.queue: fn.name for trigger, fn in topology.queue_triggers() if fn.name in OURS}


def _api_samples() -> list[Path]:
    found = []
    for path in sorted((EVENTS / "apigw").glob("*.json")):
        event = json.loads(path.read_text())
        if (event["httpMethod"], event["resource"]) in ROUTES:
            found.append(path)
    return found


def _queue_samples() -> list[Path]:
    return sorted(p for p in (EVENTS / "sqs").glob("*.json") if _queue_of(p) in QUEUES)


def _queue_of(path: Path) -> str:
    arn = json.loads(path.read_text())["Records"][0]["eventSourceARN"]
    return str(arn.rsplit(":", 1)[1].removeprefix("Ecrm-"))


def test_every_campaigns_route_and_queue_has_samples():
    assert {ROUTES[(e["httpMethod"], e["resource"])] for e in map(_load, _api_samples())} == {
        "campaigns_api",
        "campaigns_unsubscribe",
    }
    assert {(e["httpMethod"], e["resource"]) for e in map(_load, _api_samples())} == set(ROUTES)
    assert {_queue_of(p) for p in _queue_samples()} == set(QUEUES)


def _load(path: Path) -> dict:
    loaded: dict = json.loads(path.read_text())
    return loaded


def test_api_samples_are_answered_without_a_server_error(stack: Stack):
    answers = {}
    for path in _api_samples():  # one stack for all: they are independent requests
        event = _load(path)
        answers[path.stem] = lambdas.invoke(ROUTES[(event["httpMethod"], event["resource"])], event)
    assert {name: a["statusCode"] for name, a in answers.items() if a["statusCode"] >= 500} == {}
    assert answers["campaign_template_create"]["statusCode"] == 201
    assert answers["campaign_template_invalid"]["statusCode"] == 422
    assert "frist_name" in answers["campaign_template_invalid"]["body"]
    assert answers["campaign_segment_preview"]["statusCode"] == 200


def test_queue_samples_are_consumed_without_a_failed_record(stack: Stack):
    for path in _queue_samples():
        event = _load(path)
        for record in event["Records"]:
            body = json.loads(record["body"])
            if _queue_of(path) == "CampaignPlanQueue":
                PlanCommand.model_validate(body)
            elif _queue_of(path) == "CampaignSendQueue":
                SendBatch.model_validate(body)
        assert lambdas.invoke(QUEUES[_queue_of(path)], event) == {"batchItemFailures": []}, path.stem


def test_a_poison_message_fails_alone_so_sqs_moves_it_to_the_dlq(stack: Stack):
    good = _load(EVENTS / "sqs" / "campaign_sender_batch.json")["Records"][0]
    bad = {**good, "messageId": "poison-1", "body": '{"campaign_id": "x", "contact_ids": "not a list"'}
    # in a batch, only the poison message is reported failed; the good one is settled
    assert lambdas.invoke("campaign_sender", {"Records": [good, bad]}) == {
        "batchItemFailures": [{"itemIdentifier": "poison-1"}]
    }
    # a lone failed record is answered too, by every consumer (decision 43): SQS retries it and,
    # after 5 receives, its redrive policy moves it to the DLQ; the invocation is no function error
    for name in ("campaign_sender", "campaign_planner", "campaign_triggers", "campaign_segments", "campaign_feedback"):
        assert lambdas.invoke(name, {"Records": [bad]}) == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}
