"""Role-protected contacts API: look up, search by tag, edit, GDPR export and erasure."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.contacts.compose import contact_directory
from ecrm.contacts.service import ContactDirectory
from ecrm.contacts.settings import ContactsApiSettings
from ecrm.observability import logger, metrics

app = build_resolver()


@cache
def service() -> ContactDirectory:
    return contact_directory(ContactsApiSettings.from_env())


app.routes_from("ecrm.contacts.api_routes", access.CONTACTS_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
