"""unit: contact search normalization (names, e-mail, E.164 phones), the index values a contact
is found by, and the directory's search over the in-memory repository."""

from datetime import UTC, datetime

import pytest
from ecrm.clock import FixedClock
from ecrm.contacts import search
from ecrm.contacts.models import CaptureRequest, Contact, ContactPatch
from ecrm.contacts.search import SearchQuery
from ecrm.contacts.service import CaptureService, ContactDirectory
from ecrm.errors import InvalidInput
from ecrm.signing import Signer

from tests.unit.fakes import MemoryContacts

NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Müller", "muller"),
        ("MÜLLER", "muller"),
        ("Mu\u0308ller", "muller"),  # decomposed input folds the same as composed
        ("  Anna   Maria ", "anna maria"),
        ("Straße", "strasse"),  # casefold, not lower
        ("".join(chr(0xFF00 + ord(c) - 0x20) for c in "Wide"), "wide"),  # fullwidth forms: NFKD
        ("Zoë Ångström", "zoe angstrom"),
        ("Øre", "øre"),  # does not decompose: kept
    ],
)
def test_fold_drops_case_and_accents(raw, folded):
    assert search.fold(raw) == folded


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("+49 (30) 1234-567", "+49301234567"),
        ("+49301234567", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("030 1234567", "+49301234567"),  # national: default country, trunk 0 dropped
        ("+49 (0)30 1234567", "+49301234567"),
        ("30.123.4567", "+49301234567"),
        ("+1 (212) 555-1234", "+12125551234"),
    ],
)
def test_e164_normalizes_every_spelling_of_a_number(raw, number):
    assert search.e164(raw, "49") == number


@pytest.mark.parametrize("junk", ["", "+", "12", "call me", "+0 30 1234567", "+49 30 1234567890123", "+४९३०१२३४५६७"])
def test_e164_refuses_what_is_no_number(junk):
    assert search.e164(junk, "49") is None


def test_e164_without_a_default_country_takes_only_international_numbers():
    assert search.e164("030 1234567", None) is None
    assert search.e164("+49 30 1234567", None) == "+49301234567"


def contact(**fields: object) -> Contact:
    return Contact.model_validate(
        {"id": "a" * 32, "email": "Ann@Example.com", "created_at": NOW, "updated_at": NOW, **fields}
    )


def test_index_values_per_slot():
    values = search.index_values(
        contact(first_name="Anna", last_name="Müller", phone="030 1234567", company="Ącme GmbH"), "49"
    )
    assert values == {
        "email": "ann@example.com",
        "name": "anna muller",
        "last_name": "muller",
        "phone": "+49301234567",
        "company": "acme gmbh",
    }
    # one name alone is "name"; a phone that is no number is not indexed
    assert search.index_values(contact(last_name="Müller", phone="12 3"), "49") == {
        "email": "ann@example.com",
        "name": "muller",
    }


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("name", " Anna  MU ", "anna mu"),
        ("email_prefix", " ANN@Ex", "ann@ex"),
        ("company", "Ącm", "acm"),
        ("phone", "+49 (30) 1234-567", "+49301234567"),
    ],
)
def test_query_normalizes_like_the_index(kind, raw, value):
    assert search.query(kind, raw, "49") == SearchQuery(kind, value)


@pytest.mark.parametrize(("kind", "raw"), [("name", "a"), ("name", " é "), ("company", ""), ("phone", "123")])
def test_query_too_short_or_no_number_is_422_naming_the_parameter(kind, raw):
    with pytest.raises(InvalidInput) as refused:
        search.query(kind, raw, "49")
    assert (refused.value.field, refused.value.status) == (kind, 422)


def test_first_hit_answers_each_contact_once():
    names = ["anders", "anna anders"]
    assert search.first_hit("anders", names, "an") is True
    assert search.first_hit("anna anders", names, "an") is False
    assert search.first_hit("anna anders", names, "anna") is True


@pytest.fixture
def directory():
    clock = FixedClock(NOW)
    repo = MemoryContacts()
    capture = CaptureService(repo, clock, Signer(b"s" * 32), "v1")
    ids = {}
    for email, first, last, phone, company in [
        ("anna@example.com", "Anna", "Müller", "+49 30 1234567", "Acme"),
        ("anders@example.com", "Anna", "Anders", None, "Ácme Labs"),
        ("bob@other.org", "Bob", "Annan", "030 7654321", None),
    ]:
        req = CaptureRequest(email=email, first_name=first, last_name=last, phone=phone, company=company)
        ids[email] = capture.capture(req, None).id
    return ContactDirectory(repo, clock, phone_country="49"), ids


def emails(page) -> list[str]:
    return [c.email for c in page.items]


def test_directory_searches_each_kind(directory):
    service, _ = directory
    assert emails(service.search("name", "ann", 10, None)) == [
        "anders@example.com",
        "anna@example.com",
        "bob@other.org",
    ]
    assert emails(service.search("name", "MÜLL", 10, None)) == ["anna@example.com"]
    assert emails(service.search("name", "anna mu", 10, None)) == ["anna@example.com"]
    # index order: by value, then "#": "acme labs" sorts before "acme"
    assert emails(service.search("company", "acme", 10, None)) == ["anders@example.com", "anna@example.com"]
    assert emails(service.search("email_prefix", "AN", 10, None)) == ["anders@example.com", "anna@example.com"]
    assert emails(service.search("phone", "+49301234567", 10, None)) == ["anna@example.com"]
    assert emails(service.search("phone", "0307654321", 10, None)) == ["bob@other.org"]


def test_directory_search_follows_an_edit(directory):
    service, ids = directory
    service.update(ids["anna@example.com"], ContactPatch(last_name="Schmidt", phone=None))
    assert emails(service.search("name", "mull", 10, None)) == []
    assert emails(service.search("name", "schm", 10, None)) == ["anna@example.com"]
    assert emails(service.search("phone", "+49301234567", 10, None)) == []


def test_directory_search_refuses_a_short_prefix(directory):
    service, _ = directory
    with pytest.raises(InvalidInput) as refused:
        service.search("company", "a", 10, None)
    assert refused.value.field == "company"
