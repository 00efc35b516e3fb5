"""The platform's event path: the Outbox table every writer commits its events to, and the relay
that carries them from the table's stream to the bus (decision 52)."""

from __future__ import annotations

from ecrm import settings
from ecrm.names import Env, Resource

from ecrm_infra.topology.spec import Access, Capability, Function, MetricAlarm, StreamTrigger, Table

# What a function that announces its writes needs: the Outbox table's name and the right to add to it.
OUTBOX_ENV = {Env.OUTBOX_TABLE: Resource.OUTBOX_TABLE}
OUTBOX_GRANT = {Resource.OUTBOX_TABLE: Access.PUT}

EVENTS = Capability(
    name="Events",
    tables=(
        Table(
            Resource.OUTBOX_TABLE,
            stream=True,
            no_personal_data="events in transit to the bus (ids only, no personal data), gone after a week",
        ),
    ),
    functions=(
        Function(
            name="event_relay",
            description="Outbox table stream -> event bus: every committed event, at least once",
            settings=settings.EventRelaySettings,
            env={Env.EVENT_BUS: Resource.EVENT_BUS},
            grants={Resource.EVENT_BUS: Access.PUT_EVENTS},
            stream=StreamTrigger(Resource.OUTBOX_TABLE),
            timeout_seconds=30,
        ),
    ),
    alarms=(
        MetricAlarm(
            metric="EventRelayFailures",
            threshold=0,
            description="The bus rejected outbox events after retries: the relay is re-reading its stream",
        ),
    ),
)
