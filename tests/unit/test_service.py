"""unit: capture, consent and directory services over in-memory ports."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.clock import FixedClock
from ecrm.contacts.consent_mail import ConfirmationMailer
from ecrm.contacts.models import CaptureRequest, ContactPatch
from ecrm.contacts.service import CaptureService, ContactDirectory
from ecrm.errors import Conflict, InvalidToken, NotFound
from ecrm.signing import Signer

from tests.unit.fakes import MemoryContacts, Outbox, RecordingPublisher


@pytest.fixture
def world():
    clock = FixedClock(datetime(2026, 11, 22, 9, tzinfo=UTC))
    bus, outbox, signer = RecordingPublisher(), Outbox(), Signer(b"s" * 32)
    repo = MemoryContacts(bus)
    capture = CaptureService(repo, clock, signer, "v7")
    mailer = ConfirmationMailer(repo, outbox, signer, clock, "https://x.test/confirm", timedelta(hours=72))
    return clock, repo, bus, outbox, capture, mailer, ContactDirectory(repo, clock)


def post(**fields):
    return CaptureRequest.model_validate({"email": "ann@example.com", **fields})


def token_from(mail_text: str) -> str:
    return mail_text.split("token=")[1].split()[0]


def test_double_opt_in_end_to_end(world):
    clock, repo, bus, outbox, capture, mailer, _ = world
    result = capture.capture(post(marketing_consent=True, form_id="footer"), ip="203.0.113.1")
    request_id = repo.get(result.id).consent.request_id
    assert mailer.send(result.id, request_id) is True
    assert mailer.send(result.id, request_id) is False  # redelivered message: no second mail
    assert len(outbox.sent) == 1 and outbox.sent[0].to == "ann@example.com"
    clock.advance(3600)
    confirmed = capture.confirm(token_from(outbox.sent[0].text), ip="198.51.100.7")
    assert confirmed.status == "confirmed"
    assert capture.confirm(token_from(outbox.sent[0].text), ip="198.51.100.7").status == "confirmed"
    history = repo.consent_history(result.id)
    assert [(r.kind, r.ip, r.form_id, r.text_version) for r in history] == [
        ("requested", "203.0.113.1", "footer", "v7"),
        ("confirmed", "198.51.100.7", "footer", "v7"),
    ]
    assert bus.types() == ["ContactCaptured.v1", "ConsentConfirmed.v1"]


def test_expired_or_tampered_token_changes_nothing(world):
    clock, repo, bus, outbox, capture, mailer, _ = world
    result = capture.capture(post(marketing_consent=True), ip=None)
    mailer.send(result.id, repo.get(result.id).consent.request_id)
    token = token_from(outbox.sent[0].text)
    writes = repo.writes
    with pytest.raises(InvalidToken):
        capture.confirm(token[:-3] + "abc", ip=None)
    clock.advance(72 * 3600 + 1)
    with pytest.raises(InvalidToken, match="expired"):
        capture.confirm(token, ip=None)
    assert repo.writes == writes and repo.get(result.id).consent.status == "pending"


def test_repeat_capture_merges_and_retry_changes_nothing(world):
    _, repo, bus, _, capture, _, _ = world
    first = capture.capture(post(tags=["a"]), ip=None)
    second = capture.capture(post(tags=["b"], first_name="Ann"), ip=None)
    third = capture.capture(post(tags=["b"], first_name="Ann"), ip=None)
    assert first.created and not second.created and second.id == third.id == first.id
    assert repo.get(first.id).tags == ["a", "b"]
    assert bus.types() == ["ContactCaptured.v1", "ContactUpdated.v1"]


def test_directory_update_uses_optimistic_lock_and_erase_is_repeatable(world):
    _, repo, bus, _, capture, _, directory = world
    cid = capture.capture(post(), ip=None).id
    updated = directory.update(cid, ContactPatch(company="Acme", add_tags=["vip"], expected_version=1))
    assert (updated.company, updated.tags, updated.version) == ("Acme", ["vip"], 2)
    with pytest.raises(Conflict):
        directory.update(cid, ContactPatch(company="Other", expected_version=1))
    directory.erase(cid)
    directory.erase(cid)
    assert repo.get(cid) is None and repo.find_by_email("ann@example.com") is None
    assert bus.types()[-2:] == ["ContactErased.v1", "ContactErased.v1"]
    with pytest.raises(NotFound):
        directory.erase("f" * 32)
