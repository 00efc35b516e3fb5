"""Contact capture, consent and the contact directory: the domain services the handlers call."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from ecrm.clock import Clock
from ecrm.contacts import feed, merge, search
from ecrm.contacts.consent_mail import CONFIRM_PURPOSE
from ecrm.contacts.merge import Change, Context
from ecrm.contacts.models import (
    CaptureRequest,
    CaptureResult,
    ConfirmResult,
    ConsentProof,
    Contact,
    ContactPage,
    ContactPatch,
    Erasure,
)
from ecrm.contacts.ports import ContactRepository, TokenSigner
from ecrm.contacts.search import SearchKind
from ecrm.errors import AlreadyExists, Conflict, InvalidToken, NotFound
from ecrm.events import ConsentConfirmed, ContactCaptured, ContactErased, ContactUpdated

# Each attempt re-reads the contact, so concurrent posts of one address converge on one contact
# and every post's merge lands. Merges commute (fill-empty, tag union), so retrying is always right;
# the bound only stops a pathological hot key from holding the request past its timeout.
_ATTEMPTS = 8


def jittered_backoff(attempt: int) -> None:
    """Sleep a random 0-20 ms per attempt so racing writers stop colliding in lock step."""
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - jitter, not cryptography


def new_id() -> str:
    return uuid.uuid4().hex


def _updated_event(change: Change, now: datetime) -> ContactUpdated:
    return ContactUpdated(
        occurred_at=now,
        contact_id=change.contact.id,
        changed=change.changed,
        consent_requested=change.consent_request_id is not None,
        consent_request_id=change.consent_request_id,
    )


class ContactCapture:
    """Contacts folded in by the capture rules (normalization, dedupe on the address, merge,
    consent): a form post, or a bulk import's row (ecrm.imports)."""

    def __init__(
        self,
        repo: ContactRepository,
        clock: Clock,
        consent_text_version: str,
        ids: Callable[[], str] = new_id,
        backoff: Callable[[int], None] = jittered_backoff,
    ) -> None:
        self._backoff = backoff
        self._repo = repo
        self._clock = clock
        self._text_version = consent_text_version
        self._ids = ids

    def capture(self, req: CaptureRequest, ip: str | None) -> CaptureResult:
        return self._capture(req, lambda: Context(self._clock.now(), ip, self._text_version, self._ids()))

    def capture_imported(self, req: CaptureRequest, proof: ConsentProof | None) -> CaptureResult:
        """A bulk import's row: the same rules as a form post, but consent with its `proof` is
        recorded as given (no opt-in mail), and a pending consent request is never made again, so
        a file imported twice sends one opt-in mail."""
        return self._capture(
            req, lambda: Context(self._clock.now(), None, self._text_version, self._ids(), proof=proof, imported=True)
        )

    def _capture(self, req: CaptureRequest, context: Callable[[], Context]) -> CaptureResult:
        for attempt in range(_ATTEMPTS):
            ctx = context()
            existing = self._repo.find_by_email(req.email)
            try:
                if existing is None:
                    return self._create(req, ctx)
                return self._merge(existing, req, ctx)
            except (AlreadyExists, Conflict):
                self._backoff(attempt)  # another writer got there first: re-read and merge into its contact
        raise Conflict("contact kept changing while it was being captured")

    def _create(self, req: CaptureRequest, ctx: Context) -> CaptureResult:
        change = merge.new_contact(req, ctx)
        captured = ContactCaptured(
            occurred_at=ctx.now,
            contact_id=change.contact.id,
            form_id=req.form_id,
            tags=change.contact.tags,
            utm_source=req.utm_source,
            utm_campaign=req.utm_campaign,
            consent_requested=change.consent_request_id is not None,
            consent_request_id=change.consent_request_id,
        )
        self._repo.create(change.contact, change.consent, events=[captured, *_proven(change, ctx.now)])
        return CaptureResult(
            id=change.contact.id, created=True, consent_requested=change.consent_request_id is not None
        )

    def _merge(self, existing: Contact, req: CaptureRequest, ctx: Context) -> CaptureResult:
        change = merge.merge(existing, req, ctx)
        if change is not None:
            self._repo.save(
                change.contact,
                existing,
                added_tags=change.added_tags,
                consent=change.consent,
                events=[_updated_event(change, ctx.now), *_proven(change, ctx.now)],
            )
        requested = change is not None and change.consent_request_id is not None
        return CaptureResult(id=existing.id, created=False, consent_requested=requested)


def _proven(change: Change, now: datetime) -> list[ConsentConfirmed]:
    """ConsentConfirmed for consent an import recorded with its proof (none otherwise)."""
    record = change.confirmed
    if record is None:
        return []
    return [
        ConsentConfirmed(
            occurred_at=now,
            contact_id=change.contact.id,
            request_id=record.request_id,
            text_version=record.text_version,
            form_id=record.form_id,
        )
    ]


class CaptureService(ContactCapture):
    """Public side: form posts and consent confirmation."""

    def __init__(
        self,
        repo: ContactRepository,
        clock: Clock,
        signer: TokenSigner,
        consent_text_version: str,
        ids: Callable[[], str] = new_id,
        backoff: Callable[[int], None] = jittered_backoff,
    ) -> None:
        super().__init__(repo, clock, consent_text_version, ids, backoff)
        self._signer = signer

    def confirm(self, token: str, ip: str | None) -> ConfirmResult:
        now = self._clock.now()
        claims = self._signer.verify(CONFIRM_PURPOSE, token, now)
        contact = self._repo.get(str(claims.get("c")))
        if contact is None:
            raise InvalidToken("the contact no longer exists")
        change = merge.confirm(contact, str(claims.get("r")), now, ip)
        if change is not None:
            consent = change.contact.consent
            confirmed = ConsentConfirmed(
                occurred_at=now,
                contact_id=contact.id,
                request_id=consent.request_id or "",
                text_version=consent.text_version or "",
                form_id=consent.form_id,
            )
            self._repo.save(change.contact, contact, consent=change.consent, events=[confirmed])
            contact = change.contact
        return ConfirmResult(
            contact_id=contact.id, status=contact.consent.status, confirmed_at=contact.consent.confirmed_at
        )


class ContactDirectory:
    """Signed-in side: look up, search, edit and erase contacts (the export is ecrm.contact360's)."""

    def __init__(self, repo: ContactRepository, clock: Clock, phone_country: str | None = None) -> None:
        """`phone_country`: the calling code of a searched phone number given without one."""
        self._repo = repo
        self._clock = clock
        self._phone_country = phone_country

    def get(self, contact_id: str) -> Contact:
        contact = self._repo.get(contact_id)
        if contact is None:
            raise NotFound("contact")
        return contact

    def by_email(self, email: str) -> ContactPage:
        contact = self._repo.find_by_email(email)
        return ContactPage(items=[contact] if contact else [])

    def by_tag(self, tag: str, limit: int, cursor: str | None) -> ContactPage:
        items, next_cursor = self._repo.list_by_tag(tag, limit, cursor)
        return ContactPage(items=items, next_cursor=next_cursor)

    def search(self, kind: SearchKind, value: str, limit: int, cursor: str | None) -> ContactPage:
        """Contacts by e-mail prefix, name prefix, phone or company prefix (ecrm.contacts.search);
        InvalidInput (422) naming `kind` for a prefix too short or a number that is none."""
        items, next_cursor = self._repo.search(search.query(kind, value, self._phone_country), limit, cursor)
        return ContactPage(items=items, next_cursor=next_cursor)

    def changes(self, updated_since: datetime | None, limit: int, cursor: str | None) -> ContactPage:
        """The change feed (ecrm.contacts.feed): contacts and erasures in the order of their last
        change, from `cursor` (else `updated_since`), up to a moment ago."""
        window = feed.window(updated_since, cursor, self._clock.now())
        found = [] if window.empty else self._repo.changes(window, limit)
        last = found[-1][0] if found else window.after
        return ContactPage(
            items=[c for _, c in found if isinstance(c, Contact)],
            erased=[e for _, e in found if isinstance(e, Erasure)],
            next_cursor=feed.encode(last) if last else None,
            caught_up=len(found) < limit,
        )

    def update(self, contact_id: str, patch: ContactPatch, actor: str | None = None) -> Contact:
        contact = self.get(contact_id)
        if patch.expected_version is not None and patch.expected_version != contact.version:
            raise Conflict(f"contact is at version {contact.version}, not {patch.expected_version}")
        fields = patch.model_dump(exclude_unset=True, exclude={"add_tags", "remove_tags", "custom", "expected_version"})
        tags = (set(contact.tags) | set(patch.add_tags)) - set(patch.remove_tags)
        added = sorted(tags - set(contact.tags))
        removed = sorted(set(contact.tags) - tags)
        updates: dict[str, object] = {k: v for k, v in fields.items() if getattr(contact, k) != v}
        if added or removed:
            updates["tags"] = sorted(tags)
        if patch.custom and {**contact.custom, **patch.custom} != contact.custom:
            updates["custom"] = {**contact.custom, **patch.custom}
        if not updates:
            return contact
        now = self._clock.now()
        updated = contact.model_copy(update={**updates, "updated_at": now, "version": contact.version + 1})
        event = ContactUpdated(occurred_at=now, contact_id=contact.id, changed=sorted(updates), actor=actor)
        self._repo.save(updated, contact, added_tags=added, removed_tags=removed, events=[event])
        return updated

    def erase(self, contact_id: str, actor: str | None = None) -> None:
        """Delete everything held about the contact, leaving an id-only tombstone committed with
        ContactErased. Repeating it is harmless and announces the erasure again."""
        now = self._clock.now()
        erased = [ContactErased(occurred_at=now, contact_id=contact_id, actor=actor)]
        contact = self._repo.get(contact_id)
        if contact is not None:
            self._repo.erase(contact, now, events=erased)
        elif self._repo.is_erased(contact_id):
            self._repo.announce(erased)
        else:
            raise NotFound("contact")
