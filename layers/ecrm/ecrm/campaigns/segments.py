"""Segments: rules over contact attributes, the index that answers them, and the query planner.

Every contact has a *membership*: a snapshot of the attributes segments can ask about (`Member`)
and one index item per indexed value it holds (`index_keys`): `SEG#tag#vip`, `SEG#consent#confirmed`,
`SEG#country#DE`, `SEG#utm#newsletter`, `SEG#tier#gold`, and for a contact of a company
`SEG#companyid#<id>` and one `SEG#company#<attribute>=<value>` per company attribute
(`SEG#company#industry=software`). Every index item sorts by last activity
then contact id, so a last-activity range is a key condition on whichever partition is queried.

A segment is resolved by one *driving* Query per value of its most selective indexed include rule
(several for `any_of`), and every other rule is a filter on the snapshot the index item carries.
Campaign mail only ever goes to contacts with confirmed consent, so that rule is always part of a
plan: a segment with no indexed include rule of its own is driven by `SEG#consent#confirmed`.
There is no plan without an index query, and no Scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ecrm.contact360.names import ATTRIBUTE_KEY
from ecrm.contacts.models import Contact
from ecrm.model import Model
from ecrm.types import Tag

if TYPE_CHECKING:
    from ecrm.campaigns.ports import SegmentIndex

PREFIX = "SEG"
MAX_VALUES = 10
MAX_RULES = 10


def token(value: str | None, max_length: int = 100) -> str | None:
    """Free text as an index value: trimmed, lower-cased, runs of other characters as one '-'.
    Rules and contacts go through the same function, so "Google Ads" finds "google ads"."""
    cleaned = _NOT_TOKEN.sub("-", (value or "").strip().lower()).strip("-_.+")[:max_length]
    return cleaned or None


def country_code(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


def _as_token(value: object) -> object:
    return token(value) or value if isinstance(value, str) else value


def _as_country(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


_NOT_TOKEN = re.compile(r"[^a-z0-9_.+]+")
_ATTRIBUTE = re.compile(ATTRIBUTE_KEY)
Country = Annotated[str, BeforeValidator(_as_country), StringConstraints(pattern=r"^[A-Z]{2}$")]
TierName = Annotated[str, BeforeValidator(_as_token), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.+-]{0,39}$")]
UtmSource = Annotated[str, BeforeValidator(_as_token), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.+-]{0,99}$")]


def partition(kind: str, value: str) -> str:
    return f"{PREFIX}#{kind}#{value}"


def activity_key(at: datetime) -> str:
    """Fixed-width UTC time, so the lexical order of sort keys is the time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_key(member: Member) -> str:
    return f"{activity_key(member.last_activity)}#{member.contact_id}"


class Member(Model):
    """What segments may ask about one contact: the snapshot every index item of it carries."""

    model_config = ConfigDict(frozen=True)

    contact_id: str
    tags: frozenset[str] = frozenset()
    consent_confirmed: bool = False
    country: str | None = None
    utm_source: str | None = None
    tier: str | None = None
    # The address hard-bounced or complained (SES feedback): kept out of every plan, so counts and
    # `targeted` leave it out. The sender still checks the suppression list itself before each mail.
    suppressed: bool = False
    last_activity: AwareDatetime
    # The contact's company (the contact 360's ContactCompanyChanged): its attributes as tokens, and
    # the (since, version) of what we were told, so a late event changes nothing.
    company_id: str | None = None
    company: dict[str, str] = {}
    company_since: AwareDatetime | None = None
    company_version: int = 0

    @property
    def mailable(self) -> bool:
        return self.consent_confirmed and not self.suppressed


def index_keys(member: Member) -> frozenset[str]:
    """The index partitions the contact belongs in: what the membership projection must hold."""
    keys = {partition("tag", t) for t in member.tags}
    if member.mailable:
        keys.add(partition("consent", "confirmed"))
    for kind, value in (("country", member.country), ("utm", member.utm_source), ("tier", member.tier)):
        if value:
            keys.add(partition(kind, value))
    if member.company_id:
        keys.add(partition("companyid", member.company_id))
        keys |= {partition("company", f"{attribute}={value}") for attribute, value in member.company.items()}
    return frozenset(keys)


def company_tokens(attributes: Mapping[str, str]) -> dict[str, str]:
    """A company's attributes as the index keeps them: values as tokens, empty ones left out."""
    found = {key: token(value) for key, value in attributes.items() if _ATTRIBUTE.match(key)}
    return {key: value for key, value in sorted(found.items()) if value}


def member_from_contact(
    contact: Contact,
    tier: str | None = None,
    activity: datetime | None = None,
    suppressed: bool = False,
    company: CompanyFacts | None = None,
) -> Member:
    """Project a contact (plus what other capabilities tell us: loyalty tier, last mail activity,
    whether its address is suppressed).

    Country comes from the custom field `country` (ISO code; anything else is ignored), UTM source
    from the first touch (where the contact was acquired). Last activity is the latest of creation,
    last visit, consent confirmation and `activity` (an open or click).
    """
    times = [contact.created_at, activity, contact.consent.confirmed_at]
    times.append(contact.last_touch.at if contact.last_touch else None)
    source = contact.first_touch.utm.source if contact.first_touch else None
    return Member(
        contact_id=contact.id,
        tags=frozenset(contact.tags),
        consent_confirmed=contact.consent.status == "confirmed",
        country=country_code(contact.custom.get("country")),
        utm_source=token(source),
        tier=token(tier, 40),
        suppressed=suppressed,
        last_activity=max(t for t in times if t is not None),
        **(company.fields() if company else {}),
    )


@dataclass(frozen=True)
class CompanyFacts:
    """What a member knows of its company, in the order events are kept: (since, version)."""

    company_id: str | None
    attributes: Mapping[str, str]
    since: datetime | None
    version: int

    @classmethod
    def of(cls, member: Member | None) -> CompanyFacts | None:
        if member is None or member.company_since is None:
            return None
        return cls(member.company_id, member.company, member.company_since, member.company_version)

    def newer_than(self, other: CompanyFacts | None) -> bool:
        if other is None or other.since is None:
            return True
        assert self.since is not None
        return (self.since, self.version) > (other.since, other.version)

    def fields(self) -> dict[str, object]:
        return {
            "company_id": self.company_id,
            "company": company_tokens(self.attributes) if self.company_id else {},
            "company_since": self.since,
            "company_version": self.version,
        }


# -- rules -------------------------------------------------------------------------------------


class BaseRule(Model):
    """What every rule answers: its index partitions (if any) and whether a member matches."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    index_kind: ClassVar[str | None] = None

    def values(self) -> tuple[str, ...]:
        """Index partition values this rule selects (any of them); empty if it is not indexed."""
        return ()

    def matches(self, member: Member, now: datetime) -> bool:
        raise NotImplementedError

    def matches_value(self, value: str, member: Member) -> bool:
        return False


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class TagRule(BaseRule):
    index_kind: ClassVar[str | None] = "tag"
    kind: Literal["tag"]
    any_of: Annotated[list[Tag], Field(min_length=1, max_length=MAX_VALUES)]

    def values(self) -> tuple[str, ...]:
        return tuple(_unique(self.any_of))

    def matches(self, member: Member, now: datetime) -> bool:
        return any(t in member.tags for t in self.any_of)

    def matches_value(self, value: str, member: Member) -> bool:
        return value in member.tags


class ConsentRule(BaseRule):
    index_kind: ClassVar[str | None] = "consent"
    kind: Literal["consent"]
    status: Literal["confirmed"] = "confirmed"

    def values(self) -> tuple[str, ...]:
        return ("confirmed",)

    def matches(self, member: Member, now: datetime) -> bool:
        return member.mailable  # the index's consent partition holds mailable contacts only

    def matches_value(self, value: str, member: Member) -> bool:
        return member.mailable


class _OneValued(BaseRule):
    """A rule on an attribute a contact holds at most one value of: its partitions are disjoint."""

    attribute: ClassVar[str]
    any_of: list[str]

    def values(self) -> tuple[str, ...]:
        return tuple(_unique(self.any_of))

    def matches(self, member: Member, now: datetime) -> bool:
        return getattr(member, self.attribute) in self.any_of

    def matches_value(self, value: str, member: Member) -> bool:
        return bool(getattr(member, self.attribute) == value)


class CountryRule(_OneValued):
    index_kind: ClassVar[str | None] = "country"
    attribute: ClassVar[str] = "country"
    kind: Literal["country"]
    any_of: Annotated[list[Country], Field(min_length=1, max_length=MAX_VALUES)]


class UtmSourceRule(_OneValued):
    index_kind: ClassVar[str | None] = "utm"
    attribute: ClassVar[str] = "utm_source"
    kind: Literal["utm_source"]
    any_of: Annotated[list[UtmSource], Field(min_length=1, max_length=MAX_VALUES)]


class TierRule(_OneValued):
    index_kind: ClassVar[str | None] = "tier"
    attribute: ClassVar[str] = "tier"
    kind: Literal["tier"]
    any_of: Annotated[list[TierName], Field(min_length=1, max_length=MAX_VALUES)]


AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY)]
CompanyValue = Annotated[str, BeforeValidator(_as_token), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.+-]{0,99}$")]
CompanyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class CompanyRule(BaseRule):
    """Contacts whose company has `attribute` set to any of `any_of` (compared as tokens, so
    "Software" finds "software")."""

    index_kind: ClassVar[str | None] = "company"
    kind: Literal["company"]
    attribute: AttributeKey
    any_of: Annotated[list[CompanyValue], Field(min_length=1, max_length=MAX_VALUES)]

    def values(self) -> tuple[str, ...]:
        return tuple(f"{self.attribute}={v}" for v in _unique(self.any_of))

    def matches(self, member: Member, now: datetime) -> bool:
        return member.company.get(self.attribute) in self.any_of

    def matches_value(self, value: str, member: Member) -> bool:
        return value == f"{self.attribute}={member.company.get(self.attribute)}"


class CompanyIdRule(_OneValued):
    """Contacts of any of these companies (by id)."""

    index_kind: ClassVar[str | None] = "companyid"
    attribute: ClassVar[str] = "company_id"
    kind: Literal["company_id"]
    any_of: Annotated[list[CompanyId], Field(min_length=1, max_length=MAX_VALUES)]


class ActivityRule(BaseRule):
    """Last activity in [after, before): absolute times, or relative to the moment of planning
    (`within_days`: active in the last N days; `idle_days`: not active in the last N days), so a
    recurring campaign's 'active this month' means this month at every run."""

    kind: Literal["last_activity"]
    after: AwareDatetime | None = None
    before: AwareDatetime | None = None
    within_days: int | None = Field(default=None, ge=1, le=3650)
    idle_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _one_bound_each_side(self) -> ActivityRule:
        if self.after is None and self.before is None and self.within_days is None and self.idle_days is None:
            raise ValueError("give at least one of after, before, within_days, idle_days")
        if self.after is not None and self.within_days is not None:
            raise ValueError("give either after or within_days, not both")
        if self.before is not None and self.idle_days is not None:
            raise ValueError("give either before or idle_days, not both")
        if self.after is not None and self.before is not None and self.after >= self.before:
            raise ValueError("after must be earlier than before")
        return self

    def bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        lower = self.after or (now - timedelta(days=self.within_days) if self.within_days else None)
        upper = self.before or (now - timedelta(days=self.idle_days) if self.idle_days else None)
        return lower, upper

    def matches(self, member: Member, now: datetime) -> bool:
        lower, upper = self.bounds(now)
        return (lower is None or member.last_activity >= lower) and (upper is None or member.last_activity < upper)


Rule = Annotated[
    TagRule | ConsentRule | CountryRule | UtmSourceRule | TierRule | CompanyRule | CompanyIdRule | ActivityRule,
    Field(discriminator="kind"),
]


class SegmentRules(Model):
    """A contact is in the segment if it matches every `include` rule and no `exclude` rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    include: Annotated[list[Rule], Field(max_length=MAX_RULES)] = Field(default_factory=list)
    exclude: Annotated[list[Rule], Field(max_length=MAX_RULES)] = Field(default_factory=list)

    @field_validator("exclude")
    @classmethod
    def _consent_cannot_be_excluded(cls, exclude: list[BaseRule]) -> list[BaseRule]:
        if any(isinstance(r, ConsentRule) for r in exclude):
            raise ValueError("consent cannot be excluded: campaign mail only reaches confirmed contacts")
        return exclude


# -- planning ----------------------------------------------------------------------------------

# Rough partition sizes used when the index has no count for a partition: a tag is usually the
# narrowest cut, consent the widest (it holds every mailable contact).
DEFAULT_ESTIMATES: Mapping[str, int] = {
    "tag": 1_000,
    "companyid": 1_000,
    "utm": 2_000,
    "company": 2_000,
    "tier": 5_000,
    "country": 10_000,
    "consent": 1_000_000,
}
_KIND_ORDER = ("companyid", "tag", "utm", "company", "tier", "country", "consent")
IMPLIED_CONSENT = ConsentRule(kind="consent")


@dataclass(frozen=True)
class KeyRange:
    """Sort-key bounds: `lower` inclusive, `upper` exclusive. Sort keys are `<time>#<id>` and the
    bounds are bare times, so no key equals a bound: BETWEEN and < give the same answer."""

    lower: str | None = None
    upper: str | None = None


@dataclass(frozen=True)
class IndexQuery:
    partition: str
    range: KeyRange = KeyRange()


@dataclass(frozen=True)
class SegmentPlan:
    queries: tuple[IndexQuery, ...]  # empty only when the rules cannot match anyone
    driver: BaseRule
    include: tuple[BaseRule, ...]
    exclude: tuple[BaseRule, ...]
    now: datetime

    def accepts(self, member: Member, query_index: int) -> bool:
        """Whether an item read from `queries[query_index]` is a recipient. With `any_of` driving
        several partitions one contact may sit in more than one; it counts only in the first."""
        earlier = self.driver.values()[:query_index]
        if any(self.driver.matches_value(v, member) for v in earlier):
            return False
        return self.matches(member)

    def matches(self, member: Member) -> bool:
        """Whether the contact is in the segment (and mailable), wherever its snapshot came from."""
        if not all(rule.matches(member, self.now) for rule in self.include):
            return False
        return not any(rule.matches(member, self.now) for rule in self.exclude)


def candidate_partitions(rules: SegmentRules) -> list[str]:
    """Partitions a plan for `rules` may drive on: the ones worth asking the index to count."""
    found = {partition(r.index_kind, v) for r in (*rules.include, IMPLIED_CONSENT) if r.index_kind for v in r.values()}
    return sorted(found)


def _cost(rule: BaseRule, estimates: Mapping[str, int]) -> tuple[int, int]:
    kind = rule.index_kind or ""
    total = sum(estimates.get(partition(kind, v), DEFAULT_ESTIMATES[kind]) for v in rule.values())
    return total, _KIND_ORDER.index(kind)


def _key_range(rules: tuple[BaseRule, ...], now: datetime) -> KeyRange | None:
    """Intersect every include activity rule into one key range; None if it is empty."""
    lowers: list[datetime] = []
    uppers: list[datetime] = []
    for rule in rules:
        if isinstance(rule, ActivityRule):
            lower, upper = rule.bounds(now)
            lowers += [lower] if lower else []
            uppers += [upper] if upper else []
    lower, upper = max(lowers, default=None), min(uppers, default=None)
    if lower is not None and upper is not None and lower >= upper:
        return None
    return KeyRange(activity_key(lower) if lower else None, activity_key(upper) if upper else None)


def plan(rules: SegmentRules, now: datetime, estimates: Mapping[str, int] | None = None) -> SegmentPlan:
    """Choose the driving rule (the smallest estimated partitions) and turn the rest into filters.

    `estimates` maps partition -> item count where the index keeps counts; unknown partitions use
    DEFAULT_ESTIMATES. Ties go to the kind order above, then to rule order: the plan is stable.
    """
    include = (*rules.include, IMPLIED_CONSENT)
    candidates = [r for r in include if r.index_kind]
    driver = min(candidates, key=lambda r: _cost(r, estimates or {}))
    key_range = _key_range(tuple(include), now)
    queries: tuple[IndexQuery, ...] = ()
    if key_range is not None:
        queries = tuple(IndexQuery(partition(driver.index_kind or "", v), key_range) for v in driver.values())
    return SegmentPlan(queries, driver, include, tuple(rules.exclude), now)


Position = tuple[int, str | None]  # (index of the query in the plan, cursor within it)


@dataclass(frozen=True)
class Page:
    query_index: int  # the query the page was read from
    accepted: list[Member]
    next: Position | None  # where to continue; None when the plan is exhausted


def pages(
    segment_plan: SegmentPlan, index: SegmentIndex, page_size: int, start: Position = (0, None)
) -> Iterator[Page]:
    """Walk the plan one Query page at a time from `start`, keeping the members it accepts."""
    query_index, cursor = start
    while query_index < len(segment_plan.queries):
        page = index.query(segment_plan.queries[query_index], page_size, cursor)
        accepted = [m for m in page.members if segment_plan.accepts(m, query_index)]
        following = query_index + 1 if page.cursor is None else query_index
        more = following < len(segment_plan.queries)
        yield Page(query_index, accepted, (following, page.cursor) if more else None)
        query_index, cursor = following, page.cursor


def count(segment_plan: SegmentPlan, index: SegmentIndex, page_size: int = 1000) -> int:
    """Count preview: run the plan and count recipients (reads what a send would read, no more)."""
    return sum(len(page.accepted) for page in pages(segment_plan, index, page_size))
