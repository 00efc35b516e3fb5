"""unit: the cases' SQS samples carry what their consumers parse: intake messages, SLA timer
payloads and recompute requests, on queues the topology declares."""

import json
from pathlib import Path

import pytest
from ecrm.cases.models import IntakeMessage, RecomputeRequest
from ecrm.cases.names import Resource
from ecrm.cases.sla import SlaTimerPayload
from ecrm_infra import topology
from pydantic import BaseModel

EVENTS = Path(__file__).resolve().parents[3] / "events" / "sqs"
PAYLOADS: dict[str, type[BaseModel]] = {
    Resource.CASE_INTAKE_QUEUE: IntakeMessage,
    Resource.CASE_TIMER_QUEUE: SlaTimerPayload,
    Resource.CASE_RECOMPUTE_QUEUE: RecomputeRequest,
}


@pytest.mark.parametrize("queue", sorted(PAYLOADS))
def test_payload_samples_validate_with_their_consumer_s_model(queue: str):
    samples = [
        p
        for p in EVENTS.glob("case_*.json")
        if json.loads(p.read_text())["Records"][0]["eventSourceARN"].endswith(f"-{queue}")
    ]
    assert len(samples) == 1
    records = json.loads(samples[0].read_text())["Records"]
    assert records
    for record in records:
        PAYLOADS[queue].model_validate_json(record["body"])
    assert queue in {trigger.queue for trigger, _ in topology.queue_triggers()}
