"""The staff contacts routes (look up, search, list by tag, edit and erasure), registered on the
contacts_api resolver. The GDPR export, which reads every capability, is the contact 360's
(ecrm.contact360).

Kept out of the handler module so the handler stays a composition root and an entry point. Who may
call each route is declared in `ecrm.access` and checked at the edge before the request is
validated (`ecrm.api.EdgeResolver`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime

from ecrm.api import current_caller
from ecrm.contacts import feed, search
from ecrm.contacts.models import Contact, ContactPage, ContactPatch
from ecrm.contacts.service import ContactDirectory
from ecrm.errors import InvalidInput
from ecrm.observability import logger
from ecrm.types import ContactId, Email, Tag

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def register(app: APIGatewayRestResolver, service: Callable[[], ContactDirectory]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""

    @app.get(
        "/contacts",
        summary="Find contacts by e-mail, e-mail prefix, name, phone or company, list them by tag, or follow changes",
        description=(
            "Exactly one filter per request. `email`: the exact address. `email_prefix`, `name` "
            '(first name, last name or "first last"), `company`: a prefix of at least '
            f"{search.MIN_PREFIX} characters, case- and accent-insensitive. `phone`: the whole "
            "number, in any spelling of its E.164 form (a number without a country code takes the "
            "deployment's default). `tag`: contacts with the tag, by creation. `updated_since`: the "
            "change feed, contacts (`items`) and erasures (`erased`) in the order of their last change "
            f"from that time, up to {feed.SETTLE.seconds} s ago; keep `next_cursor` and call again with "
            "it: a page neither skips nor repeats a change, and `caught_up` says when no more wait."
        ),
        security=SECURED,
    )
    def find_contacts(
        email: Annotated[Email | None, Query()] = None,
        email_prefix: Annotated[str | None, Query(max_length=search.MAX_QUERY)] = None,
        name: Annotated[str | None, Query(max_length=search.MAX_QUERY)] = None,
        phone: Annotated[str | None, Query(max_length=search.MAX_QUERY)] = None,
        company: Annotated[str | None, Query(max_length=search.MAX_QUERY)] = None,
        tag: Annotated[Tag | None, Query()] = None,
        updated_since: Annotated[AwareDatetime | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> ContactPage:
        searches = {"email_prefix": email_prefix, "name": name, "phone": phone, "company": company}
        since = updated_since.isoformat() if updated_since else None
        chosen = _one_filter({"email": email, **searches, "tag": tag, "updated_since": since})
        if chosen == "updated_since":
            return service().changes(updated_since, limit, cursor)
        if email:
            return service().by_email(email)
        if tag:
            return service().by_tag(tag, limit, cursor)
        kind = next(k for k in search.KINDS if k == chosen)
        return service().search(kind, str(searches[kind]), limit, cursor)

    @app.get("/contacts/<contact_id>", summary="Get one contact", security=SECURED)
    def get_contact(contact_id: ContactId) -> Contact:
        return service().get(contact_id)

    @app.patch("/contacts/<contact_id>", summary="Update a contact (optimistic lock)", security=SECURED)
    def update_contact(contact_id: ContactId, patch: ContactPatch) -> Contact:
        return service().update(contact_id, patch, current_caller(app).actor)

    @app.delete(
        "/contacts/<contact_id>",
        summary="GDPR erasure",
        security=SECURED,
        responses={204: {"description": "erased (also when erased before)"}},
    )
    def erase_contact(contact_id: ContactId) -> Response[str]:
        service().erase(contact_id, current_caller(app).actor)
        logger.info("contact erased", contact_id=contact_id)
        return Response(204, body="")


def _one_filter(given: dict[str, str | None]) -> str:
    """The one filter given, else InvalidInput naming the filters given (or, when none was, all)."""
    named = [field for field, value in given.items() if value is not None]
    if len(named) != 1:
        fields = named or list(given)
        message = f"give exactly one of {', '.join(given)}: contacts are never listed unfiltered"
        raise InvalidInput(fields[0], message, 400, tuple(fields[1:]))
    return named[0]
