"""The loyalty programme's routes (loyalty_programme): read the programme in force, or replace it
with a new version (admins; who may call is checked at the edge)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from ecrm.api import current_caller
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.programme_versions import ProgrammeService, ProgrammeUpdate
from ecrm.loyalty.routes import SECURED
from ecrm.observability import logger


def register(app: APIGatewayRestResolver, service: Callable[[], ProgrammeService]) -> None:
    """Add the programme routes to `app`; `service()` is the cached composition root."""

    @app.get("/loyalty/programme", summary="The programme in force: earn rules, tiers, expiry", security=SECURED)
    def get_programme() -> StoredProgramme:
        return service().current()

    @app.put("/loyalty/programme", summary="Replace the programme (a new version)", security=SECURED)
    def replace_programme(update: ProgrammeUpdate) -> StoredProgramme:
        admin = current_caller(app)
        stored = service().replace(update, admin.user_id)
        logger.info("loyalty programme replaced", version=stored.version, by=admin.user_id)
        return stored
