"""integration: the capture function in-process under moto, through API Gateway-shaped events."""

import json
import threading
from urllib.parse import urlencode

import pytest
from contacts_capture import handler as capture_handler
from ecrm.contacts.models import CaptureRequest

from tests.support import Answer, Stack

FORM = "application/x-www-form-urlencoded"


def test_json_capture_creates_then_merges_same_contact(stack: Stack):
    first = stack.call("POST", "/contacts", {"email": " Ann@Example.com", "tags": ["a"], "utm_source": "google"})
    again = stack.call(
        "POST", "/contacts", {"email": "ann@example.com", "tags": ["b"], "utm_source": "mail", "first_name": "Ann"}
    )
    assert (first.status, again.status) == (201, 200)
    assert first.json["id"] == again.json["id"]
    contact = stack.admin("GET", f"/contacts/{first.json['id']}").json
    assert contact["tags"] == ["a", "b"] and contact["first_name"] == "Ann"
    assert contact["first_touch"]["utm"]["source"] == "google"
    assert contact["last_touch"]["utm"]["source"] == "mail"
    assert stack.bus_detail_types() == ["ContactCaptured.v1", "ContactUpdated.v1"]


def test_retried_post_changes_nothing(stack: Stack):
    body = {"email": "ann@example.com", "tags": ["a"], "first_name": "Ann"}
    stack.call("POST", "/contacts", body)
    items = stack.table_items()
    again = stack.call("POST", "/contacts", body)
    assert again.status == 200
    assert stack.table_items() == items
    assert stack.bus_detail_types() == ["ContactCaptured.v1"]


def test_html_form_post_redirects_to_thank_you_and_never_elsewhere(stack: Stack):
    ok = stack.call("POST", "/contacts", urlencode({"email": "bo@example.com", "tags": "news"}), FORM)
    assert ok.status == 303 and ok.headers["Location"] == stack.env["THANK_YOU_URL"]
    allowed = "http://localhost:3000/welcome?x=1"
    kept = stack.call("POST", "/contacts", urlencode({"email": "bo@example.com", "redirect": allowed}), FORM)
    assert kept.headers["Location"] == allowed
    foreign = stack.call(
        "POST", "/contacts", urlencode({"email": "bo@example.com", "redirect": "https://evil.test/"}), FORM
    )
    assert foreign.headers["Location"] == stack.env["THANK_YOU_URL"]


def test_multipart_form_is_accepted(stack: Stack):
    body = (
        '--b0\r\nContent-Disposition: form-data; name="email"\r\n\r\ncy@example.com\r\n'
        '--b0\r\nContent-Disposition: form-data; name="company"\r\n\r\nCy Ltd\r\n--b0--\r\n'
    )
    answer = stack.call("POST", "/contacts", body, "multipart/form-data; boundary=b0")
    assert answer.status == 303
    found = stack.admin("GET", "/contacts", query={"email": "cy@example.com"}).json["items"]
    assert [c["company"] for c in found] == ["Cy Ltd"]


def test_honeypot_answers_like_success_and_stores_nothing(stack: Stack):
    answer = stack.call("POST", "/contacts", {"email": "bot@example.com", "website": "http://spam.test"})
    assert answer.status == 201 and "id" in answer.json
    assert stack.table_items() == []
    assert stack.bus_detail_types() == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        ("{oops", "application/json", 400, "body"),
        (json.dumps({"first_name": "Ann"}), "application/json", 422, "email"),
        (json.dumps({"email": "ann@"}), "application/json", 422, "email"),
        (json.dumps({"email": "a@b.co", "first_name": "<script>x</script>"}), "application/json", 422, "first_name"),
        (json.dumps({"email": "a@b.co", "company": "c" * 201}), "application/json", 422, "company"),
        (json.dumps({"email": "a@b.co", "message": "m" * 70_000}), "application/json", 413, "body"),
        ("email=a@b.co", "text/plain", 415, "Content-Type"),
        (b"email=\xff\xfe", FORM, 400, "body"),
        (
            json.dumps({"email": "a@b.co", "custom": {"x": "1", "BAD": "2"}}),
            "application/json",
            422,
            "custom.BAD.[key]",
        ),
    ],
)
def test_bad_input_is_4xx_naming_the_field_and_writes_nothing(stack: Stack, body, content_type, status, field):
    answer = stack.call("POST", "/contacts", body, content_type)
    assert answer.status == status
    assert field in [e["field"] for e in answer.json["errors"]]
    assert stack.table_items() == []


def test_concurrent_posts_of_one_new_address_create_exactly_one_contact(stack: Stack):
    # Lambda runs one invocation per process, so racing posts meet only in DynamoDB: the threads
    # share the composition root's service (thread-safe clients), not the resolver's per-request state.
    barrier = threading.Barrier(8)
    answers = []
    service = capture_handler.service()

    def post(i: int) -> None:
        request = CaptureRequest.model_validate({"email": "race@example.com", "tags": [f"t{i}"]})
        barrier.wait()
        result = service.capture(request, "203.0.113.10")
        answers.append(Answer(201 if result.created else 200, {}, result.model_dump_json()))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status for a in answers).count(201) == 1
    assert len({a.json["id"] for a in answers}) == 1
    profiles = [i for i in stack.table_items() if i["sk"] == "PROFILE"]
    assert len(profiles) == 1
    contact = stack.admin("GET", f"/contacts/{answers[0].json['id']}").json
    assert contact["tags"] == sorted(f"t{i}" for i in range(8))  # every post merged, none lost
