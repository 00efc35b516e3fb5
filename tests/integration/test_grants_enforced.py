"""integration: a function that calls AWS for something its declared grants lack is caught, as AWS
would refuse it (moto would not: tests/grants.py stands in for IAM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ecrm.campaigns.names import Resource as CampaignResource
from ecrm.cases.names import Resource as CaseResource
from ecrm.contacts.names import Resource as ContactResource
from ecrm.names import Resource
from ecrm_infra import topology
from ecrm_infra.topology import Access

from tests.grants import Call, Recorder
from tests.integration.campaigns_support import Campaigns
from tests.support import Stack, aws_calls


def test_a_capture_without_the_put_grant_is_refused(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = topology.function("contacts_capture")
    monkeypatch.setitem(capture.grants, Resource.CONTACTS_TABLE, Access.READ)  # restored before the session's check
    with Recorder().installed() as recorder:
        assert stack.call("POST", "/contacts", {"email": "ann@example.com"}).status == 201  # moto allowed it
    assert recorder.refused() == [Call("contacts_capture", "dynamodb:PutItem", Resource.CONTACTS_TABLE)]
    assert {call.function for call in recorder.calls} == {"contacts_capture", "event_relay"}


def test_the_public_capture_reads_and_puts_contacts_and_nothing_else(stack: Stack) -> None:
    with Recorder().installed() as recorder:
        stack.call("POST", "/contacts", {"email": "ann@example.com", "tags": ["a"]})
        stack.call("POST", "/contacts", {"email": "ann@example.com", "tags": ["b"], "first_name": "Ann"})
    on_contacts = {c.action for c in recorder.calls if c.resource == Resource.CONTACTS_TABLE}
    assert on_contacts == {"dynamodb:GetItem", "dynamodb:PutItem"}  # a merge puts the profile back whole
    assert not recorder.refused()


CONSENTING = {"email": "ann@example.com", "marketing_consent": True}
CASE = {"email": "ann@example.com", "subject": "Printer on fire", "description": "It smokes."}
TABLE_VARS = {Resource.CONTACTS_TABLE: "CONTACTS_TABLE_NAME", CaseResource.CASES_TABLE: "CASES_TABLE_NAME"}


def _throttled(operation: str, code: str = "Throttling") -> Callable[[int, str, bool], None]:
    """An aws_calls hook: SES refuses `operation` once with `code`, as it does under load."""
    refused: list[int] = []

    def hook(n: int, called: str, answered: bool) -> None:
        if called == operation and not answered and not refused:
            refused.append(n)
            raise ClientError({"Error": {"Code": code, "Message": "refused by the test"}}, called)

    return hook


@pytest.mark.parametrize(
    ("queue", "opening", "table", "function"),
    [
        (ContactResource.CONSENT_MAIL_QUEUE, ("/contacts", CONSENTING), Resource.CONTACTS_TABLE, "consent_mailer"),
        (CaseResource.CASE_MAIL_QUEUE, ("/cases", CASE), CaseResource.CASES_TABLE, "cases_mailer"),
    ],
    ids=["consent", "case"],
)
def test_a_mailer_releases_its_claim_when_ses_throttles_which_its_grant_allows(
    stack: Stack, queue: str, opening: tuple[str, dict[str, Any]], table: str, function: str
) -> None:
    """The mail log's DELETE (topology MAIL_LOG): the path no other test of a handler takes."""
    assert stack.call("POST", *opening).status == 201
    with Recorder().installed() as recorder, aws_calls(_throttled("SendEmail")):
        (answer,) = stack.deliver(queue)
    assert len(answer["batchItemFailures"]) == 1  # comes again
    claims = [i for i in stack.table_items(TABLE_VARS[table]) if str(i["sk"]).startswith("MAIL#")]
    assert claims == []  # released, not left `sending` for the redelivery to skip
    assert Call(function, "dynamodb:DeleteItem", table) in recorder.calls
    assert not recorder.refused()


def test_resuming_a_campaign_mid_run_restarts_the_run_and_plans_it_now(campaigns: Campaigns) -> None:
    """campaigns_api's UPDATE on Campaigns and its timer grants (a plan due now goes straight to the
    plan queue, and the schedule of that name is deleted)."""
    campaigns.contact(1, tags=("vip",))
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    campaigns.pump(only={"campaign_segments"})
    assert campaigns.action(cid, "schedule")["status"] == "scheduled"
    campaigns.advance(3601)
    campaigns.pump(only={"campaign_planner"})  # the run starts; its batch waits on the send queue
    assert campaigns.stack.call("GET", f"/campaigns/{cid}", roles="marketer").json["status"] == "sending"
    assert campaigns.action(cid, "pause")["status"] == "paused"
    with Recorder().installed() as recorder:
        assert campaigns.action(cid, "resume")["status"] == "sending"
    made = {(c.action, c.resource) for c in recorder.calls if c.function == "campaigns_api"}
    assert {
        ("dynamodb:UpdateItem", CampaignResource.CAMPAIGNS_TABLE),
        ("sqs:SendMessage", CampaignResource.CAMPAIGN_PLAN_QUEUE),
        ("scheduler:DeleteSchedule", CampaignResource.CAMPAIGN_SCHEDULES),
    } <= made
    assert not recorder.refused()


def test_the_campaign_sender_releases_its_send_record_when_sending_is_paused(campaigns: Campaigns) -> None:
    """campaign_sender's DELETE on Campaigns: the claim on a recipient is given back, not left `sending`."""
    campaigns.contact(1, tags=("vip",))
    segment = campaigns.segment([{"kind": "tag", "any_of": ["vip"]}])
    cid = campaigns.campaign(campaigns.one_off_in(1), segment)
    campaigns.pump(only={"campaign_segments"})
    campaigns.action(cid, "schedule")
    campaigns.advance(3601)
    campaigns.pump(only={"campaign_planner"})
    with Recorder().installed() as recorder, aws_calls(_throttled("SendEmail", "SendingPausedException")):
        campaigns.pump(rounds=1, only={"campaign_sender"}, until_quiet=False)
    assert Call("campaign_sender", "dynamodb:DeleteItem", CampaignResource.CAMPAIGNS_TABLE) in recorder.calls
    assert not recorder.refused()
    campaigns.pump(only={"campaign_sender"})  # sent on the next delivery
    assert len(campaigns.mail()) == 1
