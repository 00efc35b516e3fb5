"""How the contacts' events read on a contact's timeline (ecrm.timeline)."""

from __future__ import annotations

from ecrm.names import DetailType, Source
from ecrm.timeline import Detail, Kind


def _consent(detail: Detail) -> str:
    return "; marketing consent requested (opt-in mail sent)" if detail.get("consent_requested") else ""


def _captured(detail: Detail) -> str:
    form = f" from form {detail['form_id']}" if detail.get("form_id") else ""
    source = f", source {detail['utm_source']}" if detail.get("utm_source") else ""
    return f"Captured{form}{source}{_consent(detail)}"


def _updated(detail: Detail) -> str:
    changed = ", ".join(detail.get("changed") or []) or "nothing new"
    return f"Profile updated ({changed}){_consent(detail)}"


KINDS = (
    Kind(Source.CONTACTS, DetailType.CONTACT_CAPTURED, "contact.captured", _captured),
    Kind(Source.CONTACTS, DetailType.CONTACT_UPDATED, "contact.updated", _updated),
    Kind(
        Source.CONTACTS,
        DetailType.CONSENT_CONFIRMED,
        "consent.confirmed",
        lambda d: f"Marketing consent confirmed (consent text {d.get('text_version')})",
    ),
)
