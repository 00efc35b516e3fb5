"""unit: bad input is refused by the request models, naming the field."""

import pytest
from ecrm.cases.models import (
    AgentCaseRequest,
    CasePatch,
    CaseRequest,
    CommentRequest,
    CsatRequest,
    IntakeMessage,
)
from pydantic import BaseModel, ValidationError

FORM = {"email": "Ann@Example.com", "subject": "Cannot log in", "description": "Since Monday."}
MESSAGE = {
    "channel": "email",
    "message_id": "<abc123@mail.example.com>",
    "requester": {"email": "ann@example.com"},
    "subject": "Invoice wrong",
    "description": "Twice charged",
}


def field_of(model: type[BaseModel], data: dict) -> tuple:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return info.value.errors()[0]["loc"]


def test_a_form_post_as_a_browser_sends_it_is_accepted():
    req = CaseRequest.model_validate({**FORM, "tags": "Billing, login", "form_id": "help-footer", "website": ""})
    assert (req.email, req.tags, req.is_spam) == ("ann@example.com", ["billing", "login"], False)
    assert CaseRequest.model_validate({**FORM, "website": "http://spam"}).is_spam


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"subject": None}, ("subject",)),
        ({"subject": "   "}, ("subject",)),
        ({"subject": "Hi\r\nBcc: x@evil.test"}, ("subject",)),
        ({"subject": "<script>"}, ("subject",)),
        ({"email": "not-an-address"}, ("email",)),
        ({"description": ""}, ("description",)),
        ({"description": "null\x00byte"}, ("description",)),
        ({"tags": ["ok", "Not A Tag!"]}, ("tags", 1)),
        ({"priority": "asap"}, ("priority",)),
        ({"page_url": "javascript:alert(1)"}, ("page_url",)),
    ],
)
def test_bad_form_fields_are_named(change, loc):
    data = {**FORM, **change}
    if change.get("subject", "") is None:
        del data["subject"]
    assert field_of(CaseRequest, data) == loc


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"channel": "fax"}, ("channel",)),
        ({"channel": "web"}, ("channel",)),  # web cases come through the API, not the queue
        ({"message_id": "has space"}, ("message_id",)),
        ({"message_id": ""}, ("message_id",)),
        ({"requester": {"email": "nope"}}, ("requester", "email")),
        ({"requester": {"email": "a@b.example", "phone": "1"}}, ("requester", "phone")),
        ({"schema_version": 2}, ("schema_version",)),
        ({"team": "Has Space"}, ("team",)),
        ({"surprise": 1}, ("surprise",)),
    ],
)
def test_bad_intake_messages_are_named(change, loc):
    assert field_of(IntakeMessage, {**MESSAGE, **change}) == loc


def test_the_idempotency_key_is_channel_and_message_id():
    assert IntakeMessage.model_validate(MESSAGE).idempotency_key == "email#<abc123@mail.example.com>"
    assert IntakeMessage.model_validate({**MESSAGE, "team": " Billing "}).team == "billing"


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (CasePatch, {"priority": "high"}, ("expected_version",)),
        (CasePatch, {"status": "done", "expected_version": 1}, ("status",)),
        (CasePatch, {"assignee_id": "a b", "expected_version": 1}, ("assignee_id",)),
        (CasePatch, {"expected_version": 0}, ("expected_version",)),
        (CasePatch, {"subject": "x", "expected_version": 1}, ("subject",)),
        (CommentRequest, {"body": "  "}, ("body",)),
        (CommentRequest, {"body": "x", "visibility": "secret"}, ("visibility",)),
        (CsatRequest, {"token": "t" * 20, "rating": 6}, ("rating",)),
        (CsatRequest, {"token": "t" * 20, "rating": "great"}, ("rating",)),
        (CsatRequest, {"rating": 5}, ("token",)),
        (
            AgentCaseRequest,
            {"requester_email": "a@b.example", "subject": "s", "description": "d", "priority": "p1"},
            ("priority",),
        ),
    ],
)
def test_bad_work_requests_are_named(model, data, loc):
    assert field_of(model, data) == loc


def test_form_strings_become_numbers_where_a_number_is_meant():
    assert CsatRequest.model_validate({"token": "t" * 20, "rating": "4"}).rating == 4
    patch = CasePatch.model_validate({"expected_version": "3", "assignee_id": None})
    assert patch.expected_version == 3 and "assignee_id" in patch.model_fields_set
