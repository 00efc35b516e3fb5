"""unit: what a form may post; every rejection names its field."""

import pytest
from ecrm.api import field_errors
from ecrm.contacts.models import CaptureRequest
from ecrm.types import normalize_email
from pydantic import ValidationError


@pytest.mark.parametrize("raw", ["  Foo.Bar+x@Example.COM ", "foo.bar+x@example.com"])
def test_email_is_trimmed_and_lowercased(raw):
    assert normalize_email(raw) == "foo.bar+x@example.com"


@pytest.mark.parametrize("bad", ["a@b", "<script>@x.com", "a b@x.com", "x@-a.com", "", "a@" + "b" * 250 + ".com"])
def test_malformed_email_is_rejected(bad):
    with pytest.raises(ValueError, match="e-mail"):
        normalize_email(bad)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "nope"}, "email"),
        ({"email": "a@b.co", "first_name": "<script>alert(1)</script>"}, "first_name"),
        ({"email": "a@b.co", "last_name": "x" * 201}, "last_name"),
        ({"email": "a@b.co", "tags": ["ok", "not ok!"]}, "tags.1"),
        ({"email": "a@b.co", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"email": "a@b.co", "custom": {"Bad Key": "x"}}, "custom.Bad Key.[key]"),
        ({"email": "a@b.co", "custom": {f"k{i}": "v" for i in range(21)}}, "custom"),
        ({"email": "a@b.co", "page_url": "javascript:alert(1)"}, "page_url"),
        ({"email": "a@b.co", "phone": "call me"}, "phone"),
        ({"email": "a@b.co", "marketing_consent": "maybe"}, "marketing_consent"),
        ({"email": "a@b.co", "unknown": "x"}, "unknown"),
        ({"email": "a@b.co", "message": "m" * 5001}, "message"),
    ],
)
def test_bad_fields_are_named(body, field):
    with pytest.raises(ValidationError) as caught:
        CaptureRequest.model_validate(body)
    assert field in [e["field"] for e in field_errors(caught.value.errors())]


def test_honeypot_marks_spam_and_checkbox_values_are_understood():
    assert CaptureRequest.model_validate({"email": "a@b.co", "website": "http://spam"}).is_spam
    req = CaptureRequest.model_validate({"email": "a@b.co", "marketing_consent": "on", "tags": "a, B"})
    assert req.marketing_consent is True and req.tags == ["a", "b"] and not req.is_spam
