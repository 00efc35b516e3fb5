"""The queue-consumer skeleton (ecrm.consumer): partial batch failures, an all-failed batch answered,
parsing failures named, one outcome metric per record."""

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from ecrm.consumer import Envelope, QueueConsumer, RetryLater, Unprocessable, consumer, envelope, event, model
from ecrm.errors import Conflict, Unavailable
from ecrm.events import DomainEvent
from ecrm.observability import metrics
from pydantic import BaseModel


class Context:
    function_name = "consumer_test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:consumer_test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class Ping(BaseModel):
    n: int
    email: str = ""


class Pinged(DomainEvent):
    detail_type: ClassVar[str] = "Pinged.v1"
    n: int


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def bridged(detail_type: str, detail: Any) -> str:
    return json.dumps({"detail-type": detail_type, "detail": detail, "id": "e-1", "time": "2026-12-04T10:00:00Z"})


@pytest.fixture(autouse=True)
def counted() -> Iterator[dict[str, Any]]:
    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()


def counts(metric_set: dict[str, Any]) -> dict[str, float]:
    return {name: sum(m["Value"]) for name, m in metric_set.items()}


def outcomes_by_n(ping: Ping, _: Any) -> str | None:
    if ping.n == 0:
        raise RetryLater("throttled")
    if ping.n == 1:
        raise Unavailable("busy")
    if ping.n == 2:
        raise Conflict("lost a race")
    if ping.n == 3:
        raise KeyError("secret@example.com")
    return "Applied" if ping.n == 4 else None


pinger = QueueConsumer(outcomes_by_n, model(Ping), name="Ping")


# The outcome counts of MIXED, whichever way its records are run.
MIXED = [json.dumps({"n": n}) for n in (4, 5, 0, 1, 2, 3, 4)] + ['{"n": "x"}']
MIXED_COUNTS = {
    "PingApplied": 2,
    "PingDone": 1,
    "PingRetried": 1,
    "PingUnavailable": 1,
    "PingConflict": 1,
    "PingFailed": 1,
    "PingMalformed": 1,
}


def test_a_batch_answers_its_failed_records_only_and_counts_each_outcome_once(counted: dict[str, Any]) -> None:
    answer = pinger.batch(sqs_event(*MIXED), Context())  # type: ignore[arg-type]
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"m{i}"} for i in (2, 3, 4, 5, 7)]}
    assert counts(counted) == MIXED_COUNTS


def test_a_batch_whose_records_all_fail_is_answered_not_raised(counted: dict[str, Any]) -> None:
    answer = pinger.batch(sqs_event("not json", json.dumps({"n": 0})), Context())  # type: ignore[arg-type]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert counts(counted) == {"PingMalformed": 1, "PingRetried": 1}


def test_a_body_that_never_parses_is_named_by_field_without_its_value(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(Unprocessable) as refused:
        model(Ping)(json.dumps({"n": "secret@example.com"}))
    assert (refused.value.field, refused.value.message, refused.value.status) == ("n", "int_parsing", 422)
    with pytest.raises(Unprocessable) as not_json:
        model(Ping)("{")
    assert not_json.value.field == "body"

    caplog.set_level(logging.INFO)
    pinger.batch(sqs_event(json.dumps({"n": "secret@example.com"}), json.dumps({"n": 3})), Context())  # type: ignore[arg-type]
    (malformed,) = [vars(r) for r in caplog.records if r.getMessage() == "malformed ping"]
    assert (malformed["field"], malformed["reason"], malformed["message_id"]) == ("n", "int_parsing", "m0")
    (failed,) = [vars(r) for r in caplog.records if r.getMessage() == "ping failed"]
    assert (failed["error"], failed["outcome"]) == ("KeyError", "Failed")
    assert "in outcomes_by_n" in failed["at"]
    assert "secret@example.com" not in str([vars(r) for r in caplog.records])


def test_an_eventbridge_envelope_becomes_its_registered_versioned_event() -> None:
    parse = event({Pinged.detail_type: Pinged})
    at = "2026-12-04T10:00:00+00:00"
    assert parse(bridged("Pinged.v1", {"n": 7, "occurred_at": at})) == Pinged.model_validate(
        {"n": 7, "occurred_at": at}
    )
    with pytest.raises(Unprocessable) as unknown:
        parse(bridged("Pinged.v2", {"n": 7}))
    assert unknown.value.field == "detail-type"
    with pytest.raises(Unprocessable) as bad_detail:
        parse(bridged("Pinged.v1", {"n": "seven", "occurred_at": at}))
    assert bad_detail.value.field == "detail.n"
    with pytest.raises(Unprocessable) as no_envelope:
        parse(json.dumps({"n": 7}))
    assert no_envelope.value.field == "detail-type, detail"


def test_an_envelope_leaves_its_detail_to_the_domain() -> None:
    parsed = envelope(bridged("Anything.v1", {"k": [1]}))
    assert (parsed.detail_type, parsed.detail, parsed.id) == ("Anything.v1", {"k": [1]}, "e-1")
    assert parsed.time is not None and parsed.time.utcoffset() is not None


def test_the_decorator_passes_the_parsed_message_and_the_lambda_context(counted: dict[str, Any]) -> None:
    seen: list[tuple[Envelope, int]] = []

    @consumer(envelope, name="SomeEvent")
    def handle(message: Envelope, context: Any) -> str:
        seen.append((message, context.get_remaining_time_in_millis()))
        return "already_applied"

    assert handle.batch(sqs_event(bridged("X.v1", {})), Context()) == {"batchItemFailures": []}  # type: ignore[arg-type]
    assert [(m.detail_type, ms) for m, ms in seen] == [("X.v1", 10_000)]
    assert counts(counted) == {"SomeEventAlreadyApplied": 1}


def test_a_consumer_names_its_own_failures_before_the_defaults(counted: dict[str, Any]) -> None:
    class Paused(Unavailable):
        pass

    def pause(_: Ping, __: Any) -> None:
        raise Paused("account paused")

    named = QueueConsumer(pause, model(Ping), name="Ping", failures={Paused: "Paused"})
    assert named.outcome_of(Paused()) == "Paused" and named.outcome_of(Unavailable()) == "Unavailable"
    assert named.batch(sqs_event(json.dumps({"n": 1})), Context()) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}  # type: ignore[arg-type]
    assert counts(counted) == {"PingPaused": 1}


def test_a_concurrent_consumer_runs_its_batch_at_once_and_still_counts_each_outcome_once(
    counted: dict[str, Any],
) -> None:
    # Three records meet at a barrier: one after the other they never would (the barrier breaks).
    meeting = threading.Barrier(3, timeout=30)

    def waits_for_the_others(ping: Ping, _: Any) -> str | None:
        if ping.n < 3:
            meeting.wait()
        return outcomes_by_n(ping, _)

    together = QueueConsumer(waits_for_the_others, model(Ping), name="Ping", concurrent=True)
    bodies = [json.dumps({"n": n}) for n in (4, 5, 4)]
    answer = together.batch(sqs_event(*bodies), Context())  # type: ignore[arg-type]
    assert answer == {"batchItemFailures": []} and not meeting.broken
    # the whole policy holds as in order: failures answered, one count per record
    mixed = QueueConsumer(outcomes_by_n, model(Ping), name="Ping", concurrent=True)
    metrics.clear_metrics()
    answer = mixed.batch(sqs_event(*MIXED), Context())  # type: ignore[arg-type]
    failed = sorted(str(f["itemIdentifier"]) for f in answer["batchItemFailures"])  # in the order they ended
    assert failed == [f"m{i}" for i in (2, 3, 4, 5, 7)]
    assert counts(counted) == MIXED_COUNTS
