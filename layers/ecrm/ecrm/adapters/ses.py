"""Mail through SES v2 as a raw MIME message, so our own headers (List-Unsubscribe, …) go out as set."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING

from ecrm.mail import Mail

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Fold only past SMTP's 998-character line limit. The default (78) folds a long unbreakable value,
# such as List-Unsubscribe's signed link, into RFC 2047 encoded words, which mail clients do not
# decode there: the one-click link would be broken.
MIME_POLICY = policy.default.clone(max_line_length=998)


def mime(mail: Mail, sender: str) -> EmailMessage:
    """The message as SES's raw content: text and HTML alternatives, our headers as given."""
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class SesMailer:
    def __init__(self, client: SESV2Client, sender: str, configuration_set: str) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, mail: Mail) -> str:
        answer = self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [mail.to]},
            Content={"Raw": {"Data": mime(mail, self._sender).as_bytes()}},
            ConfigurationSetName=self._configuration_set,
        )
        return answer["MessageId"]
