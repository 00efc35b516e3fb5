"""Contact capture models: what a form may post, what we keep, and what the API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints

from ecrm.model import Model
from ecrm.types import CUSTOM_KEY, ContactId, Email, HeaderText, Phone, PlainText, StoredEmail, Tags, Url, UtmValue

MAX_CUSTOM_FIELDS = 20

CustomKey = Annotated[str, StringConstraints(pattern=CUSTOM_KEY)]
# A template may put a custom value (`country`) into a subject line: header-safe.
CustomValue = Annotated[HeaderText, StringConstraints(strip_whitespace=True, max_length=500)]
FormId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Message = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def _truthy(value: object) -> object:
    # An HTML checkbox posts its value ("on" by default) when ticked and nothing when not.
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"on", "true", "yes", "1"}:
            return True
        if lowered in {"", "off", "false", "no", "0"}:
            return False
    return value


def _bounded_custom(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"at most {MAX_CUSTOM_FIELDS} custom fields")
    return value


class Utm(Model):
    model_config = ConfigDict(frozen=True)

    source: UtmValue | None = None
    medium: UtmValue | None = None
    campaign: UtmValue | None = None
    term: UtmValue | None = None
    content: UtmValue | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class Touch(Model):
    """Where a contact came from on one visit: UTM parameters, page, referrer and form."""

    model_config = ConfigDict(frozen=True)

    utm: Utm = Utm()
    page_url: str | None = None
    referrer: str | None = None
    form_id: str | None = None
    at: datetime

    def same_source(self, other: Touch) -> bool:
        return self.model_dump(exclude={"at"}) == other.model_dump(exclude={"at"})


class CaptureRequest(Model):
    """A form post. Field names are what an HTML form sends; unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_max_length=5000)

    email: Email
    first_name: PlainText | None = None
    last_name: PlainText | None = None
    phone: Phone | None = None
    company: PlainText | None = None
    message: Message | None = None
    marketing_consent: Annotated[bool, BeforeValidator(_truthy)] = False
    tags: Tags = Field(default_factory=list)
    utm_source: UtmValue | None = None
    utm_medium: UtmValue | None = None
    utm_campaign: UtmValue | None = None
    utm_term: UtmValue | None = None
    utm_content: UtmValue | None = None
    page_url: Url | None = None
    referrer: Url | None = None
    form_id: FormId | None = None
    custom: Annotated[dict[CustomKey, CustomValue], AfterValidator(_bounded_custom)] = Field(default_factory=dict)
    website: str | None = Field(default=None, max_length=500, description="honeypot: humans leave it empty")
    redirect: Url | None = None

    def touch(self, at: datetime) -> Touch:
        utm = Utm(
            source=self.utm_source,
            medium=self.utm_medium,
            campaign=self.utm_campaign,
            term=self.utm_term,
            content=self.utm_content,
        )
        return Touch(utm=utm, page_url=self.page_url, referrer=self.referrer, form_id=self.form_id, at=at)

    @property
    def is_spam(self) -> bool:
        return bool(self.website and self.website.strip())


ConsentStatus = Literal["none", "pending", "confirmed"]


class Consent(Model):
    """Marketing consent as it stands now; every step is also kept in the consent history."""

    status: ConsentStatus = "none"
    request_id: str | None = None
    requested_at: datetime | None = None
    confirmed_at: datetime | None = None
    text_version: str | None = None
    form_id: str | None = None
    confirmed_ip: str | None = None
    # Consent given elsewhere and imported with its proof: where it was given (a bulk import row's
    # `consent_source`); `confirmed_at` is when, as the proof says.
    proof_source: str | None = None


class ConsentRecord(Model):
    """One entry of the append-only consent history."""

    kind: Literal["requested", "confirmed"]
    request_id: str
    at: datetime
    ip: str | None = None
    form_id: str | None = None
    text_version: str
    proof_source: str | None = None  # a confirmation imported with its proof: where consent was given


class ConsentProof(Model):
    """Consent given elsewhere, as a bulk import row proves it: where and when. Only an import
    carries one (never a public form): it records the consent as given, without an opt-in mail."""

    model_config = ConfigDict(frozen=True)

    source: Annotated[HeaderText, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    given_at: datetime


class Contact(Model):
    id: ContactId
    email: StoredEmail
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company: str | None = None
    last_message: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom: dict[str, str] = Field(default_factory=dict)
    first_touch: Touch | None = None
    last_touch: Touch | None = None
    consent: Consent = Consent()
    created_at: datetime
    updated_at: datetime
    version: int = 1


class CaptureResult(Model):
    id: str
    created: bool
    consent_requested: bool = Field(default=False, exclude=True)  # an opt-in mail follows (imports count them)


class ContactPatch(Model):
    """PATCH /contacts/{id}: set the fields given; `expected_version` guards against lost updates."""

    model_config = ConfigDict(extra="forbid")

    first_name: PlainText | None = None
    last_name: PlainText | None = None
    phone: Phone | None = None
    company: PlainText | None = None
    add_tags: Tags = Field(default_factory=list)
    remove_tags: Tags = Field(default_factory=list)
    custom: Annotated[dict[CustomKey, CustomValue], AfterValidator(_bounded_custom)] = Field(default_factory=dict)
    expected_version: int | None = Field(default=None, ge=1)


class Erasure(Model):
    """A contact erased (GDPR): in the change feed, so a copy elsewhere can be deleted too."""

    id: str
    erased_at: datetime


class ContactPage(Model):
    items: list[Contact]
    next_cursor: str | None = None
    erased: list[Erasure] | None = Field(
        default=None, description="the change feed only: contacts erased in this page's stretch of changes"
    )
    caught_up: bool | None = Field(
        default=None,
        description="the change feed only: no change is waiting beyond this page; call again later with `next_cursor`",
    )


class ConfirmRequest(Model):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]


class ConfirmResult(Model):
    contact_id: str
    status: ConsentStatus
    confirmed_at: datetime | None
