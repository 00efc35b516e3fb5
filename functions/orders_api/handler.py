"""The shop's orders and refunds over HTTPS, put on the bus as OrderPlaced.v1 / OrderRefunded.v1."""

from ecrm import coldstart  # first: the cyclic GC pauses while the function loads (decision 104)

# isort: split

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.api import build_resolver
from ecrm.observability import logger, metrics
from ecrm.orders.compose import orders_api
from ecrm.orders.service import OrderGateway
from ecrm.orders.settings import OrdersApiSettings

app = build_resolver()


@cache
def service() -> OrderGateway:
    return orders_api(OrdersApiSettings.from_env())


app.routes_from("ecrm.orders.routes", access.ORDERS_API, service)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.loaded()  # last: what loading made is frozen, and collection resumes
