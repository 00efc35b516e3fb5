"""The staff contacts routes (look up, list by tag, edit and erasure), registered on the contacts_api
resolver. The GDPR export, which reads every capability, is the contact 360's (ecrm.contact360).

Kept out of the handler module so the handler stays a composition root and an entry point. Who may
call each route is declared in `ecrm.access` and checked at the edge before the request is
validated (`ecrm.api.EdgeResolver`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ecrm.contacts.models import Contact, ContactPage, ContactPatch
from ecrm.contacts.service import ContactDirectory
from ecrm.errors import InvalidInput
from ecrm.observability import logger
from ecrm.types import ContactId, Email, Tag

SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def register(app: APIGatewayRestResolver, service: Callable[[], ContactDirectory]) -> None:
    """Add every route to `app`; `service()` is the cached composition root."""

    @app.get("/contacts", summary="Find contacts by e-mail or list them by tag", security=SECURED)
    def find_contacts(
        email: Annotated[Email | None, Query()] = None,
        tag: Annotated[Tag | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> ContactPage:
        if email:
            return service().by_email(email)
        if not tag:
            raise InvalidInput("tag", "give `email` or `tag`: contacts are never listed unfiltered")
        return service().by_tag(tag, limit, cursor)

    @app.get("/contacts/<contact_id>", summary="Get one contact", security=SECURED)
    def get_contact(contact_id: ContactId) -> Contact:
        return service().get(contact_id)

    @app.patch("/contacts/<contact_id>", summary="Update a contact (optimistic lock)", security=SECURED)
    def update_contact(contact_id: ContactId, patch: ContactPatch) -> Contact:
        return service().update(contact_id, patch)

    @app.delete(
        "/contacts/<contact_id>",
        summary="GDPR erasure",
        security=SECURED,
        responses={204: {"description": "erased (also when erased before)"}},
    )
    def erase_contact(contact_id: ContactId) -> Response[str]:
        service().erase(contact_id)
        logger.info("contact erased", contact_id=contact_id)
        return Response(204, body="")
