"""integration: whatever a client sends to the support form or a channel to the intake queue, the
answer is never a 5xx (or a crashed batch), a refusal writes nothing, and no log line carries the
requester's address, name or phone."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import moto_stack

FIELDS = ["email", "first_name", "subject", "description", "priority", "tags", "website", "redirect", "unknown"]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=300),
    st.sampled_from(["low", "urgent", "ann@example.com", "a\r\nb"]),
    st.lists(st.text(max_size=20), max_size=25),
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=7).map(json.dumps),
    st.binary(max_size=200),
)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])
messages = st.one_of(
    st.dictionaries(
        st.sampled_from(["channel", "message_id", "requester", "subject", "description", "priority", "x"]),
        values,
        max_size=7,
    ).map(json.dumps),
    st.text(max_size=100),
)


def test_no_form_post_yields_a_server_error_or_a_partial_write():
    with moto_stack() as stack:

        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=bodies, content_type=content_types)
        def probe(body, content_type):
            before = (stack.table_items("CASES_TABLE_NAME"), stack.table_items())
            answer = stack.call("POST", "/cases", body, content_type)
            assert answer.status < 500, answer.body
            if answer.status >= 400:
                assert (stack.table_items("CASES_TABLE_NAME"), stack.table_items()) == before
                assert answer.json["errors"][0]["field"]

        probe()


def test_no_intake_message_crashes_the_batch_or_writes_when_refused():
    from tests.integration.test_cases_flow import invoke

    with moto_stack() as stack:

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=messages)
        def probe(body):
            before = stack.table_items("CASES_TABLE_NAME")
            answer = invoke("cases_intake", [body])  # answered, never raised (decision 43)
            if answer["batchItemFailures"]:
                assert stack.table_items("CASES_TABLE_NAME") == before  # retried, then the DLQ

        probe()


def test_logs_carry_no_personal_data(capsys, log_lines):
    from tests.integration.test_cases_flow import invoke

    secret = {"email": "Secret.Person@Example.com", "first_name": "Zebulon", "priority": "urgent"}
    with moto_stack() as stack:
        answer = stack.call("POST", "/cases", {**secret, "subject": "Call +44 20 7946 0958", "description": "Zebulon"})
        cid = answer.json["id"]
        stack.call("POST", f"/cases/{cid}/comments", {"body": "Hi Zebulon", "visibility": "public"}, roles="agent")
        stack.call("POST", f"/cases/{cid}/solve", {}, roles="agent")
        stack.deliver("CaseMailQueue")
        message = {
            "channel": "email",
            "message_id": "m-1",
            "requester": {"email": "secret.person@example.com", "first_name": "Zebulon"},
            "subject": "Zebulon again",
            "description": "+44 20 7946 0958",
        }
        invoke("cases_intake", [json.dumps(message), json.dumps({**message, "channel": "fax"})])
        failed = invoke("cases_intake", [json.dumps({**message, "channel": "fax"}), json.dumps({**message, "x": 1})])
        assert len(failed["batchItemFailures"]) == 2  # bad messages only: answered, each named in the log
        contact = stack.call("GET", f"/cases/{cid}", roles="agent").json["requester_id"]
        stack.admin("DELETE", f"/contacts/{contact}")
        stack.deliver("CaseErasureQueue")
    out = capsys.readouterr()
    logged = (log_lines.getvalue() + out.out + out.err + str(failed)).lower()
    assert "malformed intake message" in logged and "literal_error" in logged
    assert "case event mailed" in logged and "requester's cases redacted" in logged
    for secret_text in ("secret.person", "zebulon", "7946"):
        assert secret_text not in logged
