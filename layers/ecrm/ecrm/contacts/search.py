"""Contact search: the values a contact is found by, normalized the same way when a contact is
indexed and when somebody searches (docs/data-model.md, "Search index items"; decision 68).

- e-mail: a prefix of the stored (trimmed, lower-cased) address;
- name: a prefix of "first last", or of the last name, case- and accent-folded (`fold`): a prefix
  of the first name is a prefix of "first last", so "ann", "muller" and "anna mu" all find
  Anna Müller;
- company: a prefix, folded like names;
- phone: the whole number in E.164 (`e164`), "+49 (30) 1234-567" and "+49301234567" alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from ecrm.contacts.models import Contact
from ecrm.errors import InvalidInput

# A one-character prefix would read a whole index partition: at least two.
MIN_PREFIX: Final = 2
MAX_QUERY: Final = 200

SearchKind = Literal["email_prefix", "name", "phone", "company"]
KINDS: Final[tuple[SearchKind, ...]] = ("email_prefix", "name", "phone", "company")

# The index slots of a contact (one index item each) and the search kind that reads each.
Slot = Literal["email", "name", "last_name", "phone", "company"]
SLOT_KIND: Final[dict[Slot, SearchKind]] = {
    "email": "email_prefix",
    "name": "name",
    "last_name": "name",
    "phone": "phone",
    "company": "company",
}

_PHONE_JUNK = re.compile(r"[\s().\-/]")
_DIGITS = re.compile(r"[0-9]+")
# E.164: a country code (never starting with 0) and at most 15 digits in all. Eight is the
# shortest number we accept: shorter ones are extensions or typing mistakes, not findable numbers.
_E164_MIN, _E164_MAX = 8, 15


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, combining marks dropped, casefolded, inner
    whitespace collapsed. Letters that do not decompose (ø, ł, đ) stay as they are."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def e164(raw: str, country_code: str | None) -> str | None:
    """The number in E.164 (`+<country code><number>`), or None when it cannot be one.

    `+49 …` and `0049 …` carry their country code; a national number (`030 1234567`, trunk 0
    dropped, or `2125551234`) takes `country_code`, the deployment's default region. Without one,
    a national number is None. The limit, written down: no per-country numbering plan, so a
    national number of a country that keeps its leading 0 (Italy) is normalized wrongly unless it
    is given with its country code, and lengths are checked against E.164's bounds only.
    """
    text = raw.strip().replace("(0)", "")  # "+49 (0)30 …": the trunk 0 shown beside the country code
    compact = _PHONE_JUNK.sub("", text)
    if compact.startswith("+"):
        number = compact[1:]
    elif compact.startswith("00"):
        number = compact[2:]
    elif country_code is None:
        return None
    elif compact.startswith("0"):
        number = country_code + compact[1:]
    else:
        number = country_code + compact
    if not _DIGITS.fullmatch(number) or number.startswith("0") or not _E164_MIN <= len(number) <= _E164_MAX:
        return None
    return "+" + number


def index_values(contact: Contact, country_code: str | None) -> dict[Slot, str]:
    """What `contact` is found by, slot by slot (a slot it has no value for is absent)."""
    first, last = fold(contact.first_name or ""), fold(contact.last_name or "")
    values: dict[Slot, str] = {"email": contact.email.strip().lower()}
    full = " ".join(part for part in (first, last) if part)
    if full:
        values["name"] = full
    if first and last:  # alone, the last name is "name" already
        values["last_name"] = last
    company = fold(contact.company or "")
    if company:
        values["company"] = company
    phone = e164(contact.phone, country_code) if contact.phone else None
    if phone:
        values["phone"] = phone
    return values


@dataclass(frozen=True)
class SearchQuery:
    kind: SearchKind
    value: str  # normalized: a prefix, or for `phone` the whole E.164 number


def query(kind: SearchKind, raw: str, country_code: str | None) -> SearchQuery:
    """The normalized query, or InvalidInput (422) naming the parameter."""
    if kind == "phone":
        number = e164(raw, country_code)
        if number is None:
            raise InvalidInput(kind, "not a phone number (give it with its country code: +49 30 1234567)", 422)
        return SearchQuery(kind, number)
    value = raw.strip().lower() if kind == "email_prefix" else fold(raw)
    if len(value) < MIN_PREFIX:
        raise InvalidInput(kind, f"give at least {MIN_PREFIX} characters", 422)
    return SearchQuery(kind, value)


def first_hit(value: str, others: list[str], prefix: str) -> bool:
    """Whether an index item holding `value` is its contact's first item that a prefix search
    meets, among the contact's values `others` (sorted as the index sorts them: by value, then
    `#`): a name search reads "first last" and the last name, and answers each contact once."""
    matching = [v for v in others if v.startswith(prefix)]
    return not matching or min(v + "#" for v in matching) == value + "#"
