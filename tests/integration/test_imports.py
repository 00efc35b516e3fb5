"""integration: a CSV import under moto: the presigned upload, the job validated whole and applied
in steps through the contacts' capture rules, idempotent on a repeat and on a crashed step."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from ecrm.imports.names import Resource
from ecrm_local.resources import LOCAL_VISIBILITY_TIMEOUT_SECONDS

from tests.support import Stack

QUEUE = Resource.IMPORT_QUEUE
MARKETER = "marketer"

GOOD = (
    "\ufeffemail;first_name;tags;custom.shoe_size;marketing_consent;consent_source;consent_at\r\n"
    "ann@example.com;Ann;vip|news;42;;shop-checkout;2024-03-01T10:00:00Z\r\n"
    'bob@example.com;"Bob; the builder";;;yes;;\r\n'
    "not-an-address;Carl;;;;;\r\n"
    "ann@example.com;Annie;events;;;;\r\n"
)


def upload(stack: Stack, body: bytes, roles: str = MARKETER) -> str:
    created = stack.call("POST", "/imports", {"size_bytes": len(body)}, roles=roles)
    assert created.status == 201, created.body
    job = created.json
    put = requests.put(job["upload_url"], data=body, headers=job["upload_headers"], timeout=10)
    assert put.status_code == 200, put.text
    return str(job["id"])


def run(stack: Stack, import_id: str) -> dict[str, Any]:
    started = stack.call("POST", f"/imports/{import_id}/start", roles=MARKETER)
    assert started.status == 202, started.body
    stack.pump()
    answer = stack.call("GET", f"/imports/{import_id}", roles=MARKETER)
    assert answer.status == 200
    return dict(answer.json)


def contacts(stack: Stack) -> dict[str, dict[str, Any]]:
    items = stack.table_items()
    return {i["contact"]["email"]: i["contact"] for i in items if i["sk"] == "PROFILE"}


def consent_mails(stack: Stack) -> int:
    return sum(1 for i in stack.table_items() if str(i["sk"]).startswith("MAIL#"))


def report(job: dict[str, Any]) -> str:
    return requests.get(job["report_url"], timeout=10).text


def test_a_file_is_applied_through_the_capture_rules_with_consent_only_where_proven(stack: Stack) -> None:
    job = run(stack, upload(stack, GOOD.encode()))
    assert (job["state"], job["rows_read"], job["applied"], job["rejected"]) == ("done", 4, 3, 1)
    assert (job["created"], job["merged"], job["opt_in_requests"]) == (2, 1, 1)
    assert report(job) == 'line,reason\r\n4,"email: Value error, not a valid e-mail address"\r\n'
    found = contacts(stack)
    ann, bob = found["ann@example.com"], found["bob@example.com"]
    assert ann["first_name"] == "Ann"  # the later row merged as a form post does: filled, never overwritten
    assert ann["tags"] == ["events", "news", "vip"]
    assert ann["custom"] == {"shoe_size": "42"}
    assert ann["consent"]["status"] == "confirmed"
    assert ann["consent"]["proof_source"] == "shop-checkout"
    assert ann["consent"]["confirmed_at"].startswith("2024-03-01T10:00:00")
    assert bob["first_name"] == "Bob; the builder"
    assert bob["consent"]["status"] == "pending"  # no proof: the opt-in mail, never confirmed
    assert consent_mails(stack) == 1
    assert "ConsentConfirmed.v1" in stack.bus_detail_types()


def test_the_same_file_again_creates_nothing_and_mails_nobody_twice(stack: Stack) -> None:
    run(stack, upload(stack, GOOD.encode()))
    before, mails = stack.table_items(), consent_mails(stack)
    events = len(stack.bus_detail_types())
    again = run(stack, upload(stack, GOOD.encode()))
    assert (again["state"], again["created"], again["merged"], again["opt_in_requests"]) == ("done", 0, 3, 0)
    assert consent_mails(stack) == mails == 1
    assert len(stack.bus_detail_types()) == events  # nothing changed, nothing announced
    assert [i for i in stack.table_items() if i["sk"] == "PROFILE"] == [i for i in before if i["sk"] == "PROFILE"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"email\nann@example.com\n\xff\xfeoops\n", "line 3: not UTF-8 text"),
        (b"email\nann@example.com\n" + b"x" * (11 * 1024 * 1024) + b"\n", "line 3: a record longer than"),
        (",".join(["email", *(f"custom.c{i}" for i in range(999))]).encode() + b"\n", "line 1: 1000 columns"),
        (b'email,first_name\nann@example.com,"Ann\nbob@example.com,Bob\n', "line 2: a quoted field is never closed"),
        (b"mail,name\nann@example.com,Ann\n", "line 1: column 1 is no field"),
    ],
    ids=["encoding", "10MB-line", "1000-columns", "unbalanced-quotes", "unknown-column"],
)
def test_a_malformed_file_ends_with_its_reason_and_nothing_imported(stack: Stack, body: bytes, reason: str) -> None:
    job = run(stack, upload(stack, body))
    assert job["state"] == "failed"
    assert job["error"].startswith(reason)
    assert reason.split(": ", 1)[1] in report(job)
    assert (job["applied"], job["created"]) == (0, 0)
    assert contacts(stack) == {}


def test_steps_continue_from_their_checkpoint_and_a_repeated_step_changes_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecrm.imports import service
    from ecrm.imports.adapters.dynamo_imports import DynamoImports

    monkeypatch.setattr(service.ImportLimits, "__init__", _small_steps(service.ImportLimits.__init__))
    rows = "".join(f"p{n}@example.com,P{n},yes\n" for n in range(7))
    import_id = upload(stack, f"email,first_name,marketing_consent\n{rows}".encode())
    assert stack.call("POST", f"/imports/{import_id}/start", roles=MARKETER).status == 202
    real_save = DynamoImports.save
    crashes: list[int] = []

    def crash_once_after_applying(self: DynamoImports, job: Any, expected_version: int) -> None:
        if job.applied == 3 and not crashes:  # the first step applied its rows, then the worker died
            crashes.append(job.offset)
            raise RuntimeError("worker killed before its checkpoint")
        real_save(self, job, expected_version)

    monkeypatch.setattr(DynamoImports, "save", crash_once_after_applying)
    stack.deliver(QUEUE, times=2)  # every step delivered twice at once; the first apply crashes
    assert crashes
    time.sleep(LOCAL_VISIBILITY_TIMEOUT_SECONDS + 0.2)  # the crashed step's message comes back
    stack.deliver(QUEUE, times=2)
    stack.pump()
    job = stack.call("GET", f"/imports/{import_id}", roles=MARKETER).json
    assert (job["state"], job["rows_read"], job["applied"]) == ("done", 7, 7)
    assert len(contacts(stack)) == 7
    assert consent_mails(stack) == 7  # one opt-in mail each, though three rows were applied twice
    # The crashed step's rows were applied again and found their contacts: counted merged (decision 89).
    assert (job["created"], job["merged"]) == (4, 3)


def test_start_waits_for_the_upload_and_answers_a_started_job_as_it_stands(stack: Stack) -> None:
    created = stack.call("POST", "/imports", {"size_bytes": 10}, roles=MARKETER).json
    early = stack.call("POST", f"/imports/{created['id']}/start", roles=MARKETER)
    assert early.status == 409
    import_id = upload(stack, b"email\na@b.de\n")
    first = stack.call("POST", f"/imports/{import_id}/start", roles=MARKETER)
    second = stack.call("POST", f"/imports/{import_id}/start", roles=MARKETER)
    assert first.json["state"] == second.json["state"] == "validating"
    sqs: Any = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.env[f"_queue:{QUEUE}"])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"  # one validation queued, not two


def test_a_file_uploaded_again_after_the_start_fails_the_import_and_applies_nothing(stack: Stack) -> None:
    body = GOOD.encode()
    created = stack.call("POST", "/imports", {"size_bytes": len(body)}, roles=MARKETER).json
    requests.put(created["upload_url"], data=body, headers=created["upload_headers"], timeout=10)
    assert stack.call("POST", f"/imports/{created['id']}/start", roles=MARKETER).status == 202
    other = GOOD.replace("ann@", "eve@").encode()  # the same size, through the same URL
    requests.put(created["upload_url"], data=other, headers=created["upload_headers"], timeout=10)
    stack.pump()
    job = stack.call("GET", f"/imports/{created['id']}", roles=MARKETER).json
    assert job["state"] == "failed"
    assert "uploaded again after the import started" in job["error"]
    assert contacts(stack) == {}


def test_a_file_larger_than_the_limit_is_refused_naming_the_field(stack: Stack) -> None:
    answer = stack.call("POST", "/imports", {"size_bytes": 10**12}, roles=MARKETER)
    assert answer.status == 422
    assert "size_bytes" in answer.body


def _small_steps(init: Any) -> Any:
    def small(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "step_rows": 3})

    return small
