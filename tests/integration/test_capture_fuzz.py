"""integration: whatever a client sends to the public form endpoint, the answer is never a 5xx,
a 4xx never writes, and no log line carries the address or name that was posted."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import moto_stack

FIELDS = [
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "message",
    "tags",
    "utm_source",
    "page_url",
    "marketing_consent",
    "custom",
    "website",
    "redirect",
    "form_id",
    "unknown",
]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=300),
    st.lists(st.text(max_size=20), max_size=25),
    st.dictionaries(st.text(max_size=45), st.text(max_size=10), max_size=3),
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8).map(json.dumps),
    st.binary(max_size=300),
    st.text(max_size=300),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "text/plain",
        "",
    ]
)


def test_no_input_yields_a_server_error_or_a_partial_write():
    with moto_stack() as stack:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=bodies, content_type=content_types)
        def probe(body, content_type):
            before = stack.table_items()
            answer = stack.call("POST", "/contacts", body, content_type)
            assert answer.status < 500, answer.body
            if answer.status >= 400:
                assert stack.table_items() == before
                assert answer.json["errors"][0]["field"]

        probe()


def test_logs_carry_no_personal_data(capsys, log_lines):
    with moto_stack() as stack:
        created = stack.call(
            "POST",
            "/contacts",
            {
                "email": "Secret.Person@Example.com",
                "first_name": "Zebulon",
                "phone": "+44 20 7946 0958",
                "marketing_consent": True,
            },
        )
        stack.call("POST", "/contacts", {"email": "secret.person@example.com", "first_name": "<b>"})
        stack.admin("DELETE", f"/contacts/{created.json['id']}")
    out = capsys.readouterr()
    logged = (out.out + out.err + log_lines.getvalue()).lower()
    assert "contact erased" in log_lines.getvalue(), "the Logger's lines are captured here"
    for secret in ("secret.person", "zebulon", "7946"):
        assert secret not in logged
