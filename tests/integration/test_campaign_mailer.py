"""integration: campaign mail through SES v2 (moto): raw MIME with the one-click headers and the
message-tag header, and every SES answer mapped to what the sender must do."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber
from ecrm.campaigns.adapters.ses_campaigns import SesCampaignMailer, send_rate_from_quota
from ecrm.campaigns.compose import SES_SEND_CONFIG
from ecrm.campaigns.errors import MailOutcomeUnknown, MailRejected, MailThrottled, SendingPaused
from ecrm.campaigns.feedback import SesMail
from ecrm.campaigns.models import SendKey
from ecrm.campaigns.sending import key_from_tags, message_tags
from ecrm.mail import Mail
from ecrm_local import outbox, resources, ses_events

from tests.support import Stack

LONG_LINK = "https://mail.example.com/unsubscribe?token=" + "t" * 400
MAIL = Mail(
    to="ann@example.com",
    subject="Hello",
    text="text",
    html="<p>html</p>",
    headers={"List-Unsubscribe": f"<{LONG_LINK}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
)
KEY = SendKey(campaign_id="c" * 32, run_id="once", contact_id="a" * 32)


def test_sent_mail_carries_one_line_unsubscribe_headers_and_tags_ses_reads_back(stack: Stack):
    from ecrm.clock import SYSTEM_CLOCK

    outbox.install(SYSTEM_CLOCK)
    context = resources.local_context()
    mailer = SesCampaignMailer(boto3.client("sesv2"), context["senderAddress"], context["sesConfigurationSet"])
    message_id = mailer.send(MAIL, message_tags(KEY, 1))
    ((entry, stored_id),) = outbox.raw_messages()
    assert stored_id == message_id
    assert entry["headers"]["List-Unsubscribe"] == f"<{LONG_LINK}>"  # one line, no encoded words
    assert (
        entry["headers"]["X-SES-MESSAGE-TAGS"]
        == f"ecrm_campaign={'c' * 32}, ecrm_run=once, ecrm_contact={'a' * 32}, ecrm_variant=1"
    )
    (send_event, *_) = ses_events.events_for(entry, message_id, SYSTEM_CLOCK.now(), context["sesConfigurationSet"])
    mail = SesMail.model_validate(json.loads(send_event["Detail"])["mail"])
    assert key_from_tags({k: v[0] for k, v in mail.tags.items()}) == KEY


def _stubbed(code: str, message: str = "", status: int = 400) -> SesCampaignMailer:
    client = boto3.client("sesv2", config=SES_SEND_CONFIG)
    stub = Stubber(client)
    stub.add_client_error("send_email", service_error_code=code, service_message=message, http_status_code=status)
    stub.activate()
    return SesCampaignMailer(client, "news@example.com", "ecrm-default")


@pytest.mark.parametrize(
    ("code", "message", "status", "raised"),
    [
        ("TooManyRequestsException", "Maximum sending rate exceeded.", 429, MailThrottled),
        ("Throttling", "Maximum sending rate exceeded.", 400, MailThrottled),
        ("Throttling", "Daily message quota exceeded.", 400, SendingPaused),
        ("SendingPausedException", "", 400, SendingPaused),
        ("AccountSuspendedException", "", 400, SendingPaused),
        ("MailFromDomainNotVerifiedException", "", 400, SendingPaused),
        ("MessageRejected", "Email address is not verified.", 400, MailRejected),
        ("BadRequestException", "", 400, MailRejected),
        ("InternalFailure", "", 500, MailOutcomeUnknown),
    ],
)
def test_ses_answers_map_to_what_the_sender_must_do(code: str, message: str, status: int, raised: type):
    with pytest.raises(raised):
        _stubbed(code, message, status).send(MAIL, {})


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (ReadTimeoutError(endpoint_url="https://email"), MailOutcomeUnknown),  # it may have been taken
        (ConnectTimeoutError(endpoint_url="https://email"), SendingPaused),  # it never left
    ],
)
def test_transport_failures_say_whether_ses_may_have_the_mail(error: Exception, raised: type, monkeypatch):
    client = boto3.client("sesv2", region_name="us-east-1")

    def fail(**_: Any) -> None:
        raise error

    monkeypatch.setattr(client, "send_email", fail)
    with pytest.raises(raised):
        SesCampaignMailer(client, "news@example.com", "ecrm-default").send(MAIL, {})


def test_the_send_client_makes_one_http_attempt_even_on_a_5xx():
    """A 5xx may mean SES took the mail: botocore must not send it again (the sender settles it)."""

    class Body:
        def stream(self, **_: Any) -> Any:
            yield b'{"message": "internal"}'

        def read(self, *_: Any, **__: Any) -> bytes:
            return b'{"message": "internal"}'

    client = boto3.client("sesv2", config=SES_SEND_CONFIG)
    attempts: list[str] = []

    def server_error(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = "InternalFailure"
        return AWSResponse(request.url, 500, headers, Body())

    client.meta.events.register("before-send.sesv2.SendEmail", server_error)  # type: ignore[arg-type]
    with pytest.raises(MailOutcomeUnknown):
        SesCampaignMailer(client, "news@example.com", "ecrm-default").send(MAIL, {})
    assert len(attempts) == 1
    timeouts = (SES_SEND_CONFIG.read_timeout, SES_SEND_CONFIG.connect_timeout)  # type: ignore[attr-defined]
    assert max(timeouts) < 15  # the sender's margin


def test_send_rate_defaults_to_the_accounts_quota(stack: Stack):
    assert send_rate_from_quota(boto3.client("ses").get_send_quota()) >= 1
    assert send_rate_from_quota({"MaxSendRate": 14.0}) == 14
    assert send_rate_from_quota({"MaxSendRate": 0.5}) == 1
