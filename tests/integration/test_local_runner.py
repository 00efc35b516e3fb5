"""integration: the pieces of `ecrm local` against moto in-process (mock_aws), without HTTP."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from ecrm.clock import FixedClock
from ecrm.contacts import settings
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology.contacts import CONTACTS
from ecrm_local import apigw, auth_tokens, lambdas, outbox, pollers, resources, schedules
from ecrm_local.cron import Cron, rate_seconds

from tests.support import Stack

ROOT = Path(__file__).resolve().parents[2]
CONSENT = topology.function("consent_mailer")


# --- resources -------------------------------------------------------------------------------
def test_table_has_the_gsi_and_ttl_the_code_expects(stack: Stack):
    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=stack.env["CONTACTS_TABLE_NAME"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi1" and gsi["Projection"]["ProjectionType"] == "ALL"
    ttl = ddb.describe_time_to_live(TableName=stack.env["CONTACTS_TABLE_NAME"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_each_queue_trigger_has_dlq_redrive_and_the_topology_rule(stack: Stack):
    session = boto3.session.Session()
    trigger = CONSENT.queue
    assert trigger is not None
    url = resources.queue_url(session, trigger.queue)
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == trigger.max_receive_count
    assert redrive["deadLetterTargetArn"].endswith(resources.dlq_name(trigger.queue))
    rule = boto3.client("events").describe_rule(
        Name=resources.rule_name(trigger.queue), EventBusName=stack.env["EVENT_BUS_NAME"]
    )
    assert json.loads(rule["EventPattern"]) == trigger.event_pattern


def test_env_resolves_secret_to_its_arn_and_context_urls_to_the_real_port():
    env = resources.environment(
        {
            Resource.CONTACTS_TABLE: {None: "t"},
            Resource.EVENT_BUS: {None: "b"},
            Resource.OUTBOX_TABLE: {None: "o"},
            Resource.SIGNING_SECRET: {None: "arn:s"},
        },
        resources.local_context("http://127.0.0.1:4555"),
        CONTACTS.functions,
    )
    assert env["SIGNING_SECRET_ID"] == "arn:s"
    assert env["CONFIRM_PAGE_URL"] == "http://127.0.0.1:4555/contacts/confirm"
    assert env["THANK_YOU_URL"] == "http://127.0.0.1:4555/_local/thanks"
    assert env["ALLOWED_ORIGINS"] == "http://127.0.0.1:4555"


def test_two_functions_wanting_different_values_for_one_env_var_fail_loudly():
    a = topology.Function("a", "", settings.ContactsApiSettings, {"X": "context:k1"}, {})
    b = topology.Function("b", "", settings.ContactsApiSettings, {"X": "context:k2"}, {})
    with pytest.raises(ValueError, match="X"):
        resources.environment({}, {"k1": "1", "k2": "2"}, [a, b])


def test_a_resource_without_a_local_creator_fails_loudly():
    fn = topology.Function("a", "", settings.ContactsApiSettings, {"X": "NewThing"}, {})
    with pytest.raises(ValueError, match="NewThing"):
        resources.named_resources([fn])


# --- API Gateway events ------------------------------------------------------------------------
def _request(method: str, path: str, body: bytes = b"", content_type: str = "application/json", query: str = ""):
    headers = [("Host", "localhost:3000"), ("Content-Type", content_type), ("X-Multi", "1"), ("X-Multi", "2")]
    return apigw.Request(method, path, query, headers, body, "127.0.0.1")


def test_event_has_the_rest_proxy_shape():
    table = apigw.RouteTable(topology.routes())
    match = table.match("GET", "/contacts/abc%20d")
    assert match is not None and match.function.name == "contacts_api"
    event = apigw.build_event(_request("GET", "/contacts/abc%20d"), match, {"cognito:groups": "admin"})
    assert event["resource"] == "/contacts/{contact_id}" and event["pathParameters"] == {"contact_id": "abc d"}
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["headers"]["X-Multi"] == "2" and event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    ctx = event["requestContext"]
    assert ctx["stage"] == "local" and ctx["resourcePath"] == "/contacts/{contact_id}"
    assert ctx["authorizer"] == {"claims": {"cognito:groups": "admin"}} and ctx["identity"]["sourceIp"]
    assert event["stageVariables"] is None and event["body"] is None and event["isBase64Encoded"] is False


def test_query_and_body_encoding_follow_api_gateway():
    table = apigw.RouteTable(topology.routes())
    match = table.match("POST", "/contacts")
    assert match is not None
    text = apigw.build_event(_request("POST", "/contacts", "é".encode(), query="a=1&a=2&b="), match, None)
    assert text["body"] == "é" and text["isBase64Encoded"] is False
    assert text["queryStringParameters"] == {"a": "2", "b": ""} and text["multiValueQueryStringParameters"]["a"] == [
        "1",
        "2",
    ]
    assert "authorizer" not in text["requestContext"]
    multipart = apigw.build_event(_request("POST", "/contacts", b"x", "multipart/form-data; boundary=b"), match, None)
    assert multipart["isBase64Encoded"] is True and base64.b64decode(multipart["body"]) == b"x"
    binary = apigw.build_event(_request("POST", "/contacts", b"\xff\xfe"), match, None)
    assert binary["isBase64Encoded"] is True


def test_proxy_result_headers_merge_and_base64_decodes():
    status, headers, body = apigw.response_parts(
        {
            "statusCode": 200,
            "headers": {"A": "1"},
            "multiValueHeaders": {"B": ["x", "y"]},
            "body": base64.b64encode(b"\x00").decode(),
            "isBase64Encoded": True,
        }
    )
    assert status == 200 and headers == [("B", "x"), ("B", "y"), ("A", "1")] and body == b"\x00"


# --- tokens ------------------------------------------------------------------------------------
def test_tokens_verify_and_become_cognito_shaped_claims(tmp_path):
    key = auth_tokens.load_key(tmp_path)
    assert auth_tokens.load_key(tmp_path) == key
    claims = auth_tokens.authorizer_claims(auth_tokens.verify(key, auth_tokens.mint(key, "admin", "a@b.co")))
    assert claims["cognito:groups"] == "admin" and claims["email"] == "a@b.co" and claims["token_use"] == "id"
    assert all(isinstance(v, str) for v in claims.values()) and claims["exp"].endswith(str(datetime.now(UTC).year))


@pytest.mark.parametrize("problem", ["expired", "tampered", "other key"])
def test_bad_tokens_are_refused(tmp_path, problem):
    key = auth_tokens.load_key(tmp_path)
    token = auth_tokens.mint(key, "agent", ttl_seconds=-1 if problem == "expired" else 60)
    if problem == "tampered":
        head, claims, sig = token.split(".")
        token = f"{head}.{claims[:-2]}xx.{sig}"
    verify_key = b"another" if problem == "other key" else key
    with pytest.raises(auth_tokens.InvalidToken):
        auth_tokens.verify(verify_key, token)


# --- SQS pollers -------------------------------------------------------------------------------
def test_only_reported_failures_stay_on_the_queue():
    msgs = [{"MessageId": "1"}, {"MessageId": "2"}]
    assert pollers.settled(msgs, {"batchItemFailures": [{"itemIdentifier": "2"}]}) == [{"MessageId": "1"}]
    assert pollers.settled(msgs, None) == msgs and pollers.settled(msgs, {}) == msgs


def test_a_poison_message_is_retried_then_moved_to_the_dlq(stack: Stack):
    import threading

    session = boto3.session.Session()
    sqs = boto3.client("sqs")
    assert CONSENT.queue is not None
    url = resources.queue_url(session, CONSENT.queue.queue)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})  # retry at once
    sqs.send_message(QueueUrl=url, MessageBody="not an EventBridge envelope")
    poller = pollers.QueuePoller(session, CONSENT, threading.Event())
    received = [poller.poll_once() for _ in range(CONSENT.queue.max_receive_count + 1)]
    assert received == [1] * CONSENT.queue.max_receive_count + [0]
    dlq = sqs.get_queue_url(QueueName=resources.dlq_name(CONSENT.queue.queue))["QueueUrl"]
    moved = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert [m["Body"] for m in moved] == ["not an EventBridge envelope"]


def test_sqs_event_has_the_lambda_record_shape():
    event = pollers.sqs_event(
        [
            {
                "MessageId": "m",
                "ReceiptHandle": "r",
                "Body": "b",
                "MD5OfBody": "5",
                "Attributes": {"SentTimestamp": "1"},
                "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
            }
        ],
        "arn:aws:sqs:us-east-1:1:q",
        "us-east-1",
    )
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == "arn:aws:sqs:us-east-1:1:q"
    assert record["messageAttributes"]["k"]["stringValue"] == "v" and record["md5OfBody"] == "5"


# --- schedules ---------------------------------------------------------------------------------
def _queue(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _at(moment: datetime) -> str:
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def test_at_schedule_fires_once_when_due_then_is_deleted_or_disabled(stack: Stack):
    clock = FixedClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    url, arn = _queue("sched-target")
    scheduler = boto3.client("scheduler")
    for name, after in (("del", "DELETE"), ("keep", "NONE")):
        scheduler.create_schedule(
            Name=name,
            ScheduleExpression=_at(clock.now() + timedelta(minutes=5)),
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": name},
            ActionAfterCompletion=after,  # type: ignore[arg-type]
        )
    firing = schedules.Firing(boto3.session.Session(), clock)
    assert firing.fire_due() == []
    clock.advance(300)
    assert sorted(f.name for f in firing.fire_due()) == ["default/del", "default/keep"]
    assert firing.fire_due() == []
    bodies = sorted(
        m["Body"] for m in boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    )
    assert bodies == ["del", "keep"]
    left = {s["Name"]: s["State"] for s in scheduler.list_schedules()["Schedules"]}
    assert left == {"keep": "DISABLED"}
    # What the firing remembers stays bounded: a deleted timer leaves nothing behind (the disabled
    # one is remembered, in case it is enabled again unchanged).
    assert len(firing._done) == 1


def test_at_schedule_in_a_timezone_and_a_lambda_target(stack: Stack, monkeypatch):
    calls = []
    monkeypatch.setattr(lambdas, "invoke", lambda name, event: calls.append((name, event)))
    clock = FixedClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))  # 13:00 in Berlin
    boto3.client("scheduler").create_schedule(
        Name="tz",
        ScheduleExpression="at(2030-01-01T13:30:00)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:consent_mailer",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": '{"Records": []}',
        },
    )
    firing = schedules.Firing(boto3.session.Session(), clock)
    clock.advance(29 * 60)
    assert firing.fire_due() == []
    clock.advance(60)
    assert [f.name for f in firing.fire_due()] == ["default/tz"]
    assert calls == [("consent_mailer", {"Records": []})]


def test_scheduled_rule_fires_a_scheduled_event_when_its_rate_is_due(stack: Stack):
    clock = FixedClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    url, arn = _queue("rule-target")
    events = boto3.client("events")
    events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="hourly", Targets=[{"Id": "q", "Arn": arn}])
    firing = schedules.Firing(boto3.session.Session(), clock)
    assert firing.fire_due() == []  # first sight starts the period
    clock.advance(3600)
    assert [f.name for f in firing.fire_due()] == ["hourly"]
    (message,) = boto3.client("sqs").receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["detail-type"] == "Scheduled Event"


def test_cron_and_rate_expressions():
    assert rate_seconds("rate(5 minutes)") == 300 and rate_seconds("cron(0 * * * ? *)") is None
    start = datetime(2030, 1, 1, 12, 7, tzinfo=UTC)  # a Tuesday
    assert Cron("cron(0/15 * * * ? *)").next_after(start) == start.replace(minute=15)
    assert Cron("cron(0 9 ? * MON-FRI *)").next_after(start) == datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    assert Cron("cron(30 8 1 JAN ? 2031)").next_after(start) == datetime(2031, 1, 1, 8, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="invalid literal"):
        Cron("cron(0 0 L * ? *)")


# --- outbox ------------------------------------------------------------------------------------
def test_outbox_reads_raw_and_simple_mail_oldest_first(stack: Stack):
    outbox.install(FixedClock(datetime(2030, 1, 1, tzinfo=UTC)))
    ses = boto3.client("sesv2")
    raw = b"From: news@example.com\r\nTo: A <a@example.org>\r\nSubject: Raw one\r\nList-Unsubscribe: <x>\r\n\r\nhello"
    ses.send_email(
        FromEmailAddress="news@example.com",
        Destination={"ToAddresses": ["a@example.org"]},
        Content={"Raw": {"Data": raw}},
    )
    ses.send_email(
        FromEmailAddress="news@example.com",
        Destination={"ToAddresses": ["b@example.org"]},
        Content={"Simple": {"Subject": {"Data": "Simple one"}, "Body": {"Text": {"Data": "hi"}}}},
    )
    first, second = outbox.messages()[-2:]
    assert (first["subject"], first["to"], first["text"]) == ("Raw one", ["a@example.org"], "hello")
    assert first["headers"]["List-Unsubscribe"] == "<x>" and first["sent_at"] == "2030-01-01T00:00:00+00:00"
    assert (second["subject"], second["to"], second["text"]) == ("Simple one", ["b@example.org"], "hi")
    page = outbox.render_html([{**first, "subject": "<script>x</script>"}])
    assert "<script>x" not in page and "&lt;script&gt;" in page


# --- ecrm invoke -------------------------------------------------------------------------------
def test_ecrm_invoke_runs_a_function_on_a_sample_event():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecrm_local.cli",
            "invoke",
            "contacts_capture",
            "--event",
            "events/apigw/capture_json.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 201


# --- the stack in-process -----------------------------------------------------------------------
STOP_RESTORES = """
import os, sys, tempfile
from pathlib import Path
from ecrm.clock import SYSTEM_CLOCK
from ecrm_local.stack import LocalStack

before = dict(os.environ)
stack = LocalStack(port=0, root=Path(tempfile.mkdtemp()))
stack.start()
try:
    assert os.environ["AWS_ENDPOINT_URL"] == stack.moto_endpoint, "the stack did not aim boto3 at moto"
    SYSTEM_CLOCK.advance(3600)
finally:
    stack.stop()
assert dict(os.environ) == before, sorted(set(os.environ.items()) ^ set(before.items()))
assert SYSTEM_CLOCK.offset.total_seconds() == 0, SYSTEM_CLOCK.offset
print("restored")
"""


def test_a_stopped_stack_leaves_the_process_as_it_found_it():
    # One process may run a stack and then more (the benchmarks do): env vars and clock come back.
    done = subprocess.run(
        [sys.executable, "-c", STOP_RESTORES], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("restored")


def test_moving_the_clock_and_firing_is_one_step_the_ticker_cannot_cut_into(stack: Stack):
    # POST /_local/clock reports what its move made due; a ticker firing between the move and the
    # look would take it from the answer. While the clock moves, a fire_due (the ticker's) waits.
    url, arn = _queue("one-step")
    moved = FixedClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    boto3.client("scheduler").create_schedule(
        Name="soon",
        ScheduleExpression=_at(moved.now() + timedelta(minutes=1)),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": "soon"},
        ActionAfterCompletion="DELETE",
    )
    ticks: list[list[schedules.Fired]] = []

    class TickDuringTheMove(FixedClock):
        def advance(self, seconds: float) -> None:
            super().advance(seconds)
            ticker = threading.Thread(target=lambda: ticks.append(firing.fire_due()))
            ticker.start()
            ticker.join(0.3)
            assert ticker.is_alive(), "the ticker fired while the clock was moving"
            self.ticker = ticker

    clock = TickDuringTheMove(moved.now())
    firing = schedules.Firing(boto3.session.Session(), clock)
    assert [f.name for f in firing.advance(61)] == ["default/soon"]
    clock.ticker.join(5)
    assert ticks == [[]]
