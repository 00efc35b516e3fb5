"""The webhooks capability's services, as the handlers get them: the API's endpoint service, the
fan-out of bus events, and the deliverer of attempts (ecrm.webhooks.endpoints, .delivery)."""

from __future__ import annotations

from ecrm.webhooks.delivery import Deliverer, FanOut
from ecrm.webhooks.endpoints import EndpointService

__all__ = ["Deliverer", "EndpointService", "FanOut"]
