"""Mail through SES v2 as a raw MIME message, so our own headers (List-Unsubscribe, …) go out as set."""

from __future__ import annotations

from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ecrm.mail import Mail, Undeliverable
from ecrm.types import sanitize_header

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Fold only past SMTP's 998-character line limit. The default (78) folds a long unbreakable value,
# such as List-Unsubscribe's signed link, into RFC 2047 encoded words, which mail clients do not
# decode there: the one-click link would be broken.
MIME_POLICY = policy.default.clone(max_line_length=998)


def mime(mail: Mail, sender: str) -> EmailMessage:
    """The message as SES's raw content: text and HTML alternatives, our headers as given.

    Header values are made safe here, the one place every mail passes: text stored before
    ecrm.types.HeaderText existed may hold a line break the mail library refuses (a case subject
    with U+2028), and becomes a space. The recipient is not guessed at: an address no header can
    hold is Undeliverable."""
    if mail.to != sanitize_header(mail.to):
        raise Undeliverable("the recipient's address holds a control character or line break")
    try:
        message = EmailMessage(policy=MIME_POLICY)
        message["From"] = sender
        message["To"] = mail.to
        message["Subject"] = sanitize_header(mail.subject)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        for name, value in mail.headers.items():
            message[name] = sanitize_header(value)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
    except (ValueError, TypeError, HeaderParseError) as exc:
        raise Undeliverable(f"the mail library refused the message: {exc}") from exc
    return message


def raw_message(mail: Mail, sender: str) -> bytes:
    """mime() as bytes; text that cannot be encoded (a lone surrogate) is Undeliverable too."""
    message = mime(mail, sender)
    try:
        return message.as_bytes()
    except (ValueError, TypeError, HeaderParseError) as exc:
        raise Undeliverable(f"the mail library could not encode the message: {exc}") from exc


# SES's answers about this message (not the account, not a moment): sending it again cannot help.
PERMANENT = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})


class SesMailer:
    def __init__(self, client: SESV2Client, sender: str, configuration_set: str) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, mail: Mail) -> str:
        data = raw_message(mail, self._sender)
        try:
            answer = self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [mail.to]},
                Content={"Raw": {"Data": data}},
                ConfigurationSetName=self._configuration_set,
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT:
                raise Undeliverable(f"{code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
            raise
        return answer["MessageId"]
