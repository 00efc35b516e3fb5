"""Pure rules for folding a form post into a contact: new contacts, repeat posts, consent requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ecrm.contacts.models import CaptureRequest, Consent, ConsentProof, ConsentRecord, Contact
from ecrm.errors import InvalidToken

# A repeat consent request inside this window (a double click, a client retry) reuses the pending
# one, so it sends no second confirmation mail; after it, a new request (and mail) is made.
CONSENT_REREQUEST_AFTER = timedelta(hours=1)
# The text version of a consent imported with its proof: the text shown then is the source's to keep.
IMPORTED_TEXT = "imported"
_FILLABLE = ("first_name", "last_name", "phone", "company")


@dataclass
class Change:
    contact: Contact
    changed: list[str] = field(default_factory=list)
    added_tags: list[str] = field(default_factory=list)
    consent: list[ConsentRecord] = field(default_factory=list)

    @property
    def consent_request_id(self) -> str | None:
        requested = [r for r in self.consent if r.kind == "requested"]
        return requested[-1].request_id if requested else None

    @property
    def confirmed(self) -> ConsentRecord | None:
        """The consent this change confirms (an import's proof), if any."""
        return next((r for r in self.consent if r.kind == "confirmed"), None)


@dataclass(frozen=True)
class Context:
    now: datetime
    ip: str | None
    text_version: str
    new_id: str  # used for the contact id of a new contact and for a new consent request
    # A bulk import: consent proven elsewhere is recorded as given; a pending request is never made
    # again (a file imported twice sends one opt-in mail, however long between the two).
    proof: ConsentProof | None = None
    imported: bool = False


def new_contact(req: CaptureRequest, ctx: Context) -> Change:
    touch = req.touch(ctx.now)
    contact = Contact(
        id=ctx.new_id,
        email=req.email,
        first_name=req.first_name,
        last_name=req.last_name,
        phone=req.phone,
        company=req.company,
        last_message=req.message,
        tags=sorted(set(req.tags)),
        custom=dict(req.custom),
        first_touch=touch,
        last_touch=touch,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    change = Change(contact, changed=["created"], added_tags=list(contact.tags))
    _request_consent(change, req, ctx)
    return change


def merge(existing: Contact, req: CaptureRequest, ctx: Context) -> Change | None:
    """Fold a repeat post into `existing`. None when it changes nothing (a retry, a double submit)."""
    updates: dict[str, object] = {}
    for name in _FILLABLE:
        value = getattr(req, name)
        if value and not getattr(existing, name):
            updates[name] = value
    if req.message and req.message != existing.last_message:
        updates["last_message"] = req.message
    new_tags = sorted(set(req.tags) - set(existing.tags))
    if new_tags:
        updates["tags"] = sorted(set(existing.tags) | set(new_tags))
    new_custom = {k: v for k, v in req.custom.items() if k not in existing.custom}
    if new_custom:
        updates["custom"] = {**existing.custom, **new_custom}
    touch = req.touch(ctx.now)
    if existing.last_touch is None or not touch.same_source(existing.last_touch):
        updates["last_touch"] = touch  # last touch moves; first touch stays as it was
    change = Change(existing.model_copy(update=updates), changed=sorted(updates), added_tags=new_tags)
    _request_consent(change, req, ctx)
    if not change.changed:
        return None
    change.contact = change.contact.model_copy(update={"updated_at": ctx.now, "version": existing.version + 1})
    return change


def _request_consent(change: Change, req: CaptureRequest, ctx: Context) -> None:
    consent = change.contact.consent
    if consent.status == "confirmed":
        return
    if ctx.proof is not None:
        _record_proof(change, req, ctx.proof, ctx.new_id)
        return
    if not req.marketing_consent:
        return
    if consent.status == "pending" and (
        ctx.imported or (consent.requested_at is not None and ctx.now - consent.requested_at < CONSENT_REREQUEST_AFTER)
    ):
        return
    record = ConsentRecord(
        kind="requested",
        request_id=ctx.new_id,
        at=ctx.now,
        ip=ctx.ip,
        form_id=req.form_id,
        text_version=ctx.text_version,
    )
    change.contact = change.contact.model_copy(
        update={
            "consent": Consent(
                status="pending",
                request_id=record.request_id,
                requested_at=ctx.now,
                text_version=ctx.text_version,
                form_id=req.form_id,
            )
        }
    )
    change.consent.append(record)
    if "consent" not in change.changed:
        change.changed.append("consent")


def _record_proof(change: Change, req: CaptureRequest, proof: ConsentProof, request_id: str) -> None:
    """Consent given elsewhere, recorded as given with its proof (where, when): no opt-in mail."""
    record = ConsentRecord(
        kind="confirmed",
        request_id=request_id,
        at=proof.given_at,
        form_id=req.form_id,
        text_version=IMPORTED_TEXT,
        proof_source=proof.source,
    )
    consent = Consent(
        status="confirmed",
        request_id=request_id,
        confirmed_at=proof.given_at,
        text_version=IMPORTED_TEXT,
        form_id=req.form_id,
        proof_source=proof.source,
    )
    change.contact = change.contact.model_copy(update={"consent": consent})
    change.consent.append(record)
    if "consent" not in change.changed:
        change.changed.append("consent")


def confirm(contact: Contact, request_id: str, now: datetime, ip: str | None) -> Change | None:
    """Confirm the pending request `request_id`. None if it is confirmed already (a second click)."""
    consent = contact.consent
    if consent.request_id != request_id:
        raise InvalidToken("token was superseded by a newer confirmation request")
    if consent.status == "confirmed":
        return None
    confirmed = consent.model_copy(update={"status": "confirmed", "confirmed_at": now, "confirmed_ip": ip})
    record = ConsentRecord(
        kind="confirmed",
        request_id=request_id,
        at=now,
        ip=ip,
        form_id=consent.form_id,
        text_version=consent.text_version or "",
    )
    updated = contact.model_copy(update={"consent": confirmed, "updated_at": now, "version": contact.version + 1})
    return Change(updated, changed=["consent"], consent=[record])
