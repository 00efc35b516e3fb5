"""unit: folding form posts into contacts (pure rules)."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.contacts import merge
from ecrm.contacts.merge import Context
from ecrm.contacts.models import CaptureRequest
from ecrm.errors import InvalidToken
from hypothesis import given
from hypothesis import strategies as st

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def ctx(at: datetime = T0, new_id: str = "b" * 32) -> Context:
    return Context(now=at, ip="203.0.113.9", text_version="v1", new_id=new_id)


def first_post(**extra: object) -> merge.Change:
    req = CaptureRequest.model_validate({"email": "Ann@Example.com", "utm_source": "google", **extra})
    return merge.new_contact(req, ctx(new_id="a" * 32))


def test_new_contact_keeps_normalized_email_and_first_touch():
    change = first_post(tags="VIP, news")
    assert change.contact.email == "ann@example.com"
    assert change.contact.tags == ["news", "vip"]
    assert change.contact.first_touch and change.contact.first_touch.utm.source == "google"
    assert change.consent == []


def test_repeat_post_fills_empty_fields_adds_tags_and_moves_only_last_touch():
    contact = first_post(first_name="Ann", tags="news").contact
    req = CaptureRequest.model_validate(
        {
            "email": "ann@example.com",
            "first_name": "Anna",
            "last_name": "Lee",
            "tags": ["events"],
            "utm_source": "newsletter",
        }
    )
    change = merge.merge(contact, req, ctx(T0 + timedelta(days=1)))
    assert change is not None
    assert change.contact.first_name == "Ann"  # filled fields are never overwritten by a form
    assert change.contact.last_name == "Lee"
    assert change.contact.tags == ["events", "news"]
    assert change.added_tags == ["events"]
    assert change.contact.first_touch and change.contact.first_touch.utm.source == "google"
    assert change.contact.last_touch and change.contact.last_touch.utm.source == "newsletter"
    assert change.contact.version == contact.version + 1


def test_identical_repeat_post_changes_nothing():
    contact = first_post(first_name="Ann").contact
    req = CaptureRequest.model_validate({"email": "ann@example.com", "first_name": "Ann", "utm_source": "google"})
    assert merge.merge(contact, req, ctx(T0 + timedelta(minutes=5))) is None


@given(
    first=st.sampled_from([None, "Ann", "Bo"]),
    tags=st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    consent=st.booleans(),
    source=st.sampled_from([None, "google", "mail"]),
)
def test_merging_the_same_post_twice_changes_nothing_the_second_time(first, tags, consent, source):
    contact = first_post().contact
    req = CaptureRequest.model_validate(
        {
            "email": "ann@example.com",
            "first_name": first,
            "tags": tags,
            "marketing_consent": consent,
            "utm_source": source,
        }
    )
    once = merge.merge(contact, req, ctx(T0 + timedelta(minutes=1)))
    after = once.contact if once else contact
    assert merge.merge(after, req, ctx(T0 + timedelta(minutes=2), new_id="c" * 32)) is None


def test_consent_request_is_reused_within_the_hour_and_renewed_after():
    change = first_post(marketing_consent="on")
    contact = change.contact
    assert contact.consent.status == "pending"
    assert change.consent_request_id == "a" * 32
    req = CaptureRequest.model_validate({"email": "ann@example.com", "marketing_consent": True, "utm_source": "google"})
    assert merge.merge(contact, req, ctx(T0 + timedelta(minutes=30))) is None
    later = merge.merge(contact, req, ctx(T0 + timedelta(hours=2), new_id="d" * 32))
    assert later is not None and later.consent_request_id == "d" * 32


def test_confirm_is_once_and_rejects_a_superseded_request():
    contact = first_post(marketing_consent=True).contact
    change = merge.confirm(contact, "a" * 32, T0 + timedelta(hours=1), "198.51.100.1")
    assert change is not None
    confirmed = change.contact
    assert confirmed.consent.status == "confirmed"
    assert confirmed.consent.confirmed_ip == "198.51.100.1"
    assert [r.kind for r in change.consent] == ["confirmed"]
    assert merge.confirm(confirmed, "a" * 32, T0 + timedelta(hours=2), None) is None
    with pytest.raises(InvalidToken):
        merge.confirm(contact, "f" * 32, T0, None)


def test_an_imported_proof_records_consent_as_given_then_and_there_without_a_request():
    from ecrm.contacts.models import ConsentProof

    proof = ConsentProof(source="shop-checkout", given_at=T0 - timedelta(days=300))
    req = CaptureRequest.model_validate({"email": "ann@example.com", "form_id": "import"})
    change = merge.new_contact(req, Context(now=T0, ip=None, text_version="v1", new_id="c" * 32, proof=proof))
    consent = change.contact.consent
    assert (consent.status, consent.confirmed_at, consent.proof_source) == (
        "confirmed",
        proof.given_at,
        "shop-checkout",
    )
    assert change.consent_request_id is None  # no opt-in mail
    assert change.confirmed is not None and change.confirmed.proof_source == "shop-checkout"


def test_an_import_never_requests_a_pending_consent_again_however_late():
    req = CaptureRequest.model_validate({"email": "ann@example.com", "marketing_consent": "yes", "form_id": "import"})
    first = merge.new_contact(req, Context(now=T0, ip=None, text_version="v1", new_id="d" * 32, imported=True))
    assert first.contact.consent.status == "pending"
    later = Context(now=T0 + timedelta(days=30), ip=None, text_version="v1", new_id="e" * 32, imported=True)
    assert merge.merge(first.contact, req, later) is None
    form_later = Context(now=T0 + timedelta(days=30), ip=None, text_version="v1", new_id="e" * 32)
    again = merge.merge(first.contact, req, form_later)
    assert again is not None and again.consent_request_id == "e" * 32  # a form post asks again, as before
