"""unit: every sample in events/ parses with the model its trigger uses, and matches the topology."""

import json
import re
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, SQSEvent
from ecrm.events import EVENT_TYPES
from ecrm_infra import topology

EVENTS = Path(__file__).resolve().parents[2] / "events"


def samples(trigger: str) -> list[Path]:
    found = sorted((EVENTS / trigger).glob("*.json"))
    assert found, f"no samples for {trigger}"
    return found


@pytest.mark.parametrize("path", samples("apigw"), ids=lambda p: p.stem)
def test_api_gateway_samples_hit_a_declared_route(path: Path):
    event = APIGatewayProxyEvent(json.loads(path.read_text()))
    declared = {(r.method, r.path): r for r, _ in topology.routes()}
    route = declared[(event.http_method, event.resource)]
    assert re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", event.resource), event.path)
    claims = (event.request_context.authorizer.raw_event or {}).get("claims")
    assert bool(claims) == (not route.public), "protected routes carry Cognito claims, public ones none"


@pytest.mark.parametrize("path", samples("eventbridge"), ids=lambda p: p.stem)
def test_eventbridge_samples_validate_against_their_versioned_schema(path: Path):
    envelope = json.loads(path.read_text())
    assert envelope["source"] == "ecrm.contacts"
    EVENT_TYPES[envelope["detail-type"]].model_validate(envelope["detail"])


@pytest.mark.parametrize("path", samples("sqs"), ids=lambda p: p.stem)
def test_sqs_samples_carry_bus_events_a_queue_trigger_accepts(path: Path):
    event = SQSEvent(json.loads(path.read_text()))
    patterns = [fn.queue.detail_types for fn in topology.FUNCTIONS if fn.queue]
    for record in event.records:
        assert record.event_source == "aws:sqs"
        envelope = json.loads(record.body)
        EVENT_TYPES[envelope["detail-type"]].model_validate(envelope["detail"])
        assert any(envelope["detail-type"] in types for types in patterns)
