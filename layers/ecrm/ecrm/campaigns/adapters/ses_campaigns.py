"""Campaign mail through SES v2: raw MIME with our headers, the configuration set, message tags, and
every answer SES can give mapped to what the sender must do (ecrm.campaigns.errors).

Message tags go in the `X-SES-MESSAGE-TAGS` header, which SES reads and strips for raw messages (the
`EmailTags` parameter would make SES ignore the header). The client this adapter is given must have
botocore's retries off: a transparent retry after a read timeout is exactly the double send the
sender's claim/complete protocol exists to avoid (compose.py builds it that way).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ecrm.adapters.ses import PERMANENT, raw_message
from ecrm.campaigns.errors import MailOutcomeUnknown, MailRejected, MailThrottled, SendingPaused
from ecrm.mail import Mail, Undeliverable

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

TAGS_HEADER = "X-SES-MESSAGE-TAGS"
_THROTTLED = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException"})
# Refusals about the account, not this message: stop the batch, the queue brings it back later.
_ACCOUNT = frozenset(
    {
        "SendingPausedException",
        "AccountSuspendedException",
        "MailFromDomainNotVerifiedException",
        "LimitExceededException",
        "NotFoundException",  # the configuration set is gone: no mail may leave without it
        "AccessDeniedException",
    }
)
_REJECTED = PERMANENT


def tags_header(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in tags.items())


def _refusal(exc: ClientError) -> Exception:
    """What a ClientError from SendEmail means: SES answered, so it either refused or failed."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    message = str(exc.response.get("Error", {}).get("Message", ""))
    if code in _THROTTLED:
        if "daily" in message.lower():  # "Daily message quota exceeded": nothing more today
            return SendingPaused(f"{code}: {message}")
        return MailThrottled(f"{code}: {message}")
    if code in _ACCOUNT:
        return SendingPaused(f"{code}: {message}")
    if code in _REJECTED:
        return MailRejected(f"{code}: {message}")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if status >= 500:
        return MailOutcomeUnknown(f"SES answered {status} ({code})")  # it may have taken the mail
    return MailRejected(f"{code}: {message}")


class SesCampaignMailer:
    """The CampaignMailer port."""

    def __init__(self, client: SESV2Client, sender: str, configuration_set: str) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, mail: Mail, tags: Mapping[str, str]) -> str:
        tagged = Mail(
            to=mail.to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers={**mail.headers, TAGS_HEADER: tags_header(tags)},
        )
        try:
            data = raw_message(tagged, self._sender)
        except Undeliverable as exc:  # never leaves: the record is settled failed, with the reason
            raise MailRejected(str(exc)) from exc
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": data}},
            "ConfigurationSetName": self._configuration_set,
        }
        try:
            answer = self._client.send_email(**request)
        except ClientError as exc:
            raise _refusal(exc) from exc
        except (ConnectTimeoutError, EndpointConnectionError) as exc:
            # The request never reached SES: nothing was sent. Stop the batch; it comes back later.
            raise SendingPaused(f"SES unreachable: {type(exc).__name__}") from exc
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            raise MailOutcomeUnknown(f"no answer from SES: {type(exc).__name__}") from exc
        return answer["MessageId"]


def send_rate_from_quota(quota: Mapping[str, Any]) -> int:
    """The account's maximum send rate (SES GetSendQuota `MaxSendRate`), whole messages per second."""
    return max(1, math.floor(float(quota.get("MaxSendRate", 1))))
