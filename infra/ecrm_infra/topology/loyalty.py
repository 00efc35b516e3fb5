"""Loyalty: the shop's orders accrue points; members redeem through the API; timers expire lots."""

from __future__ import annotations

from ecrm import access
from ecrm.loyalty import settings
from ecrm.loyalty.names import DetailType, Env, Resource
from ecrm.names import Source

from ecrm_infra.topology.contacts import MAIL_LOG
from ecrm_infra.topology.events import OUTBOX_ENV, OUTBOX_GRANT
from ecrm_infra.topology.spec import (
    Access,
    Capability,
    EventRule,
    Function,
    MetricAlarm,
    QueueTrigger,
    Table,
    timer_env,
    timer_grants,
)

# Every loyalty function may set timers (lots that get their first points, tier reviews): the
# schedule group, the role Scheduler delivers with, and the queue it delivers to (a due timer is
# sent to that queue directly).
TIMERS_ENV = timer_env(
    Resource.LOYALTY_SCHEDULES,
    Env.LOYALTY_SCHEDULE_GROUP,
    Resource.LOYALTY_TIMER_QUEUE,
    Env.LOYALTY_TIMER_QUEUE_URL,
    Env.LOYALTY_TIMER_QUEUE_ARN,
)
# Ledger writers: the table, the outbox their events commit to, the expiry and review timers.
LEDGER_ENV = {Env.LOYALTY_TABLE: Resource.LOYALTY_TABLE, **OUTBOX_ENV, **TIMERS_ENV}
LEDGER_GRANTS = {
    # Entries are new items; balances, lots and members are updated in place; histories are queried.
    Resource.LOYALTY_TABLE: Access.READ | Access.QUERY | Access.PUT | Access.UPDATE,
    **OUTBOX_GRANT,
    **timer_grants(Resource.LOYALTY_SCHEDULES, Resource.LOYALTY_TIMER_QUEUE),
}

LOYALTY = Capability(
    name="Loyalty",
    schedule_group=Resource.LOYALTY_SCHEDULES,
    # gsi1: a member's history newest first (gsi1pk = MEMBER#<id>, gsi1sk = <time>#<entry id>);
    # the base table keys entries by business key, which is what makes each happen once.
    tables=(Table(Resource.LOYALTY_TABLE, indexes=("gsi1",)),),
    functions=(
        Function(
            name="loyalty_accrual",
            description="The shop's OrderPlaced and OrderRefunded into the points ledger, each once",
            settings=settings.LoyaltyAccrualSettings,
            env={**LEDGER_ENV, Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE},
            grants={
                **LEDGER_GRANTS,
                Resource.LOYALTY_TABLE: Access.READ | Access.PUT | Access.UPDATE,  # entries by business key: no listing
                Resource.CONTACTS_TABLE: Access.READ | Access.PUT,  # unknown customers become contacts
            },
            queue=QueueTrigger(
                queue=Resource.LOYALTY_ACCRUAL_QUEUE,
                rule=EventRule(
                    sources=(Source.SHOP,),
                    detail_types=(DetailType.ORDER_PLACED, DetailType.ORDER_REFUNDED),
                ),
                batch_size=10,
                max_receive_count=5,
            ),
            timeout_seconds=20,
        ),
        Function(
            name="loyalty_upkeep",
            description="Lot expiry, expiry warnings and tier reviews (Scheduler timers), and erasure",
            settings=settings.LoyaltyUpkeepSettings,
            env={
                **LEDGER_ENV,
                Env.CONTACTS_TABLE: Resource.CONTACTS_TABLE,
                Env.SENDER: "context:senderAddress",
                Env.SES_CONFIGURATION_SET: "context:sesConfigurationSet",
            },
            grants={
                **LEDGER_GRANTS,
                Resource.CONTACTS_TABLE: MAIL_LOG,  # the contact to warn, and the warning's mail log
                Resource.MAIL: Access.SEND_MAIL,
            },
            queue=QueueTrigger(
                queue=Resource.LOYALTY_TIMER_QUEUE,
                rule=EventRule(sources=(Source.CONTACTS,), detail_types=(DetailType.CONTACT_ERASED,)),
                scheduler_target=True,
                batch_size=10,
                max_receive_count=5,
            ),
            timeout_seconds=20,
        ),
        Function(
            name="loyalty_api",
            description="Role-protected member balances, history, redemptions and adjustments",
            settings=settings.LoyaltyApiSettings,
            env=dict(LEDGER_ENV),
            grants=dict(LEDGER_GRANTS),
            routes=access.LOYALTY_API,
        ),
        Function(
            name="loyalty_programme",
            description="Role-protected loyalty programme: read it, replace it with a new version",
            settings=settings.LoyaltyProgrammeSettings,
            env={Env.LOYALTY_TABLE: Resource.LOYALTY_TABLE},
            # No timers, no events: it reads and puts the programme document.
            grants={Resource.LOYALTY_TABLE: Access.READ | Access.PUT},
            routes=access.LOYALTY_PROGRAMME_API,
        ),
    ),
    alarms=(
        # Record outcomes of the queue consumers (ecrm.consumer: <name><Outcome>, one per record).
        MetricAlarm(
            metric="ShopEventMalformed",
            threshold=0,
            description="Loyalty: the shop sent an order event that cannot be read (it ends in the accrual DLQ)",
        ),
        MetricAlarm(
            metric="ShopEventConflict",
            threshold=10,
            description="Loyalty: accrual kept losing to concurrent changes of one member (retried by the queue)",
        ),
        MetricAlarm(
            metric="LoyaltyUpkeepConflict",
            threshold=10,
            description="Loyalty: upkeep kept losing to concurrent changes of one member (retried by the queue)",
        ),
    ),
)
