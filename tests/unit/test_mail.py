"""unit: the MIME builder's last line of defence against stored header text, and send_once's
visible end states (sent, failed with a reason, or released for the retry)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from ecrm.adapters.ses import mime, raw_message
from ecrm.clock import FixedClock
from ecrm.mail import Mail, Undeliverable, send_once

from tests.unit.fakes import MemoryContacts, Outbox

BREAKS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
NOW = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize("ch", [*BREAKS, "\x00", "\u202e"], ids=lambda c: f"U+{ord(c):04X}")
def test_mime_makes_a_stored_subject_safe_instead_of_crashing(ch):
    mail = Mail(
        to="ann@example.com", subject=f"Printer{ch}on fire", text="t", html="<p>t</p>", headers={"X-Ref": f"a{ch}b"}
    )
    parsed = email.message_from_bytes(raw_message(mail, "support@example.com"), policy=email.policy.default)
    assert parsed["Subject"] == "Printer on fire"
    assert parsed["X-Ref"] == "a b"


@pytest.mark.parametrize("ch", [*BREAKS, "\x00", "\u202e"], ids=lambda c: f"U+{ord(c):04X}")
def test_mime_refuses_an_address_no_header_can_hold(ch):
    with pytest.raises(Undeliverable, match="address"):
        mime(Mail(to=f"nul{ch}@example.com", subject="s", text="t", html="h"), "support@example.com")


def test_a_lone_surrogate_in_the_body_is_undeliverable_not_a_crash():
    with pytest.raises(Undeliverable):
        raw_message(Mail(to="ann@example.com", subject="s", text="\ud800", html="h"), "support@example.com")


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def send(self, mail: Mail) -> str:
        self.calls += 1
        raise self.error


def _mail() -> Mail:
    return Mail(to="ann@example.com", subject="s", text="t", html="h")


def test_a_permanent_refusal_settles_the_claim_failed_with_its_reason_and_is_never_retried():
    log, mailer = MemoryContacts(), Refusing(Undeliverable("MessageRejected: nope"))
    assert send_once(log, mailer, FixedClock(NOW), "c1", "k", _mail) == "failed"
    assert log.mail[("c1", "k")] == {"status": "failed", "reason": "MessageRejected: nope"}
    assert send_once(log, Outbox(), FixedClock(NOW), "c1", "k", _mail) == "skipped"  # settled, not sent later


def test_a_transient_error_releases_the_claim_so_the_retry_sends():
    log, mailer = MemoryContacts(), Refusing(ConnectionError("SES unreachable"))
    with pytest.raises(ConnectionError):
        send_once(log, mailer, FixedClock(NOW), "c1", "k", _mail)
    assert ("c1", "k") not in log.mail
    outbox = Outbox()
    assert send_once(log, outbox, FixedClock(NOW), "c1", "k", _mail) == "sent"
    assert len(outbox.sent) == 1 and log.mail[("c1", "k")]["status"] == "sent"


def test_a_render_that_cannot_be_built_is_failed_too():
    def render() -> Mail:
        return Mail(to="nul\x00@example.com", subject="s", text="t", html="h")

    class Ses:
        def send(self, mail: Mail) -> str:
            raw_message(mail, "support@example.com")
            return "id"

    log = MemoryContacts()
    assert send_once(log, Ses(), FixedClock(NOW), "c1", "k", render) == "failed"
    assert "address" in log.mail[("c1", "k")]["reason"]
