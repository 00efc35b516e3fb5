"""unit: every sample in events/ parses with the model its trigger uses, and matches the topology."""

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import ecrm
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, SQSEvent
from ecrm.campaigns.feedback import SesEvent
from ecrm_infra import topology
from pydantic import BaseModel

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event_types() -> dict[str, Any]:
    """Every versioned event schema, published or consumed (a model with its own `detail_type`),
    found from the `events` module of each capability package, by detail-type."""
    for module in pkgutil.walk_packages(ecrm.__path__, "ecrm."):
        if module.name.endswith(".events"):
            importlib.import_module(module.name)
    found: dict[str, Any] = {}
    pending: list[Any] = list(BaseModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if "detail_type" in vars(cls):
            found[cls.detail_type] = cls
    return found


EVENT_TYPES = _event_types()
# Events of AWS services are not ours to version: each is checked against the model its consumer
# parses the whole envelope with.
AWS_SERVICE_SCHEMAS: dict[str, type[BaseModel]] = {"aws.ses": SesEvent}


def validate_envelope(envelope: dict) -> None:
    if envelope["source"] in AWS_SERVICE_SCHEMAS:
        AWS_SERVICE_SCHEMAS[envelope["source"]].model_validate(envelope)
        return
    schema = EVENT_TYPES[envelope["detail-type"]]
    assert envelope["source"] == schema.source
    schema.model_validate(envelope["detail"])


def samples(trigger: str) -> list[Path]:
    found = sorted((EVENTS / trigger).glob("*.json"))
    assert found, f"no samples for {trigger}"
    return found


@pytest.mark.parametrize("path", samples("apigw"), ids=lambda p: p.stem)
def test_api_gateway_samples_hit_a_declared_route(path: Path):
    event = APIGatewayProxyEvent(json.loads(path.read_text()))
    declared = {(r.method, r.path): r for r, _ in topology.routes()}
    declared |= {(r.method, r.machine_path): r for r in declared.values() if r.scopes}
    route = declared[(event.http_method, event.resource)]
    assert re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", event.resource), event.path)
    claims = (event.request_context.authorizer.raw_event or {}).get("claims")
    assert bool(claims) == (not route.public), "protected routes carry Cognito claims, public ones none"
    if event.resource == route.machine_path:  # a machine client's: an access token and an API key
        assert claims is not None and claims["token_use"] == "access" and event.request_context.identity.api_key


@pytest.mark.parametrize("path", samples("eventbridge"), ids=lambda p: p.stem)
def test_eventbridge_samples_validate_against_their_versioned_schema(path: Path):
    validate_envelope(json.loads(path.read_text()))


@pytest.mark.parametrize("path", samples("sqs"), ids=lambda p: p.stem)
def test_sqs_samples_carry_bus_events_a_queue_trigger_accepts(path: Path):
    event = SQSEvent(json.loads(path.read_text()))
    rules = [rule for trigger, _ in topology.queue_triggers() for rule in trigger.rules]
    for record in event.records:
        assert record.event_source == "aws:sqs"
        envelope = json.loads(record.body)
        if "detail-type" not in envelope:
            continue  # a timer's or a planner's payload: its consumer's tests parse it
        validate_envelope(envelope)
        assert any(
            envelope["source"] in r.sources and (not r.detail_types or envelope["detail-type"] in r.detail_types)
            for r in rules
        )
