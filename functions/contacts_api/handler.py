"""Role-protected contacts API: look up, search by tag, edit, GDPR export and erasure."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm.api import build_resolver
from ecrm.contacts.compose import contact_directory
from ecrm.contacts.models import Contact, ContactExport, ContactPage, ContactPatch
from ecrm.contacts.service import ContactDirectory
from ecrm.contacts.settings import ContactsApiSettings
from ecrm.errors import InvalidInput
from ecrm.observability import logger, metrics
from ecrm.types import ContactId, Email, Tag

app = build_resolver()
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@cache
def service() -> ContactDirectory:
    return contact_directory(ContactsApiSettings.from_env())


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


@app.get("/contacts/<contact_id>/export", summary="GDPR export: everything held", security=SECURED)
def export_contact(contact_id: ContactId) -> ContactExport:
    return service().export(contact_id)


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


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
