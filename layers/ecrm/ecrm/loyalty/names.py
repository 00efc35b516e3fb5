"""Names of the loyalty capability: table, queues, schedule group, its events and the shop's.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike. Each class extends
the platform's in `ecrm.names`, so capability code and its topology module read shared and own
names from one class (`Env.OUTBOX_TABLE`, `Env.CASES_TABLE`); a capability adds names, never
redefines one (tests/unit/test_anatomy.py).
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the loyalty capability."""

    LOYALTY_SCHEDULE_GROUP: Final = "LOYALTY_SCHEDULE_GROUP_NAME"
    LOYALTY_TABLE: Final = "LOYALTY_TABLE_NAME"
    LOYALTY_TIMER_QUEUE_URL: Final = "LOYALTY_TIMER_QUEUE_URL"
    LOYALTY_TIMER_QUEUE_ARN: Final = "LOYALTY_TIMER_QUEUE_ARN"


class Resource(names.Resource):
    """Logical names of resources of the loyalty capability."""

    LOYALTY_TABLE: Final = "Loyalty"
    LOYALTY_ACCRUAL_QUEUE: Final = "LoyaltyAccrualQueue"
    LOYALTY_TIMER_QUEUE: Final = "LoyaltyTimerQueue"  # Scheduler's timers and ContactErased.v1
    LOYALTY_SCHEDULES: Final = "LoyaltySchedules"


class DetailType(names.DetailType):
    """Versioned detail-types of the loyalty capability."""

    # consumed from the shop (source `shop`)
    ORDER_PLACED: Final = "OrderPlaced.v1"
    ORDER_REFUNDED: Final = "OrderRefunded.v1"
    # published (source `ecrm.loyalty`)
    POINTS_EARNED: Final = "PointsEarned.v1"
    POINTS_REVERSED: Final = "PointsReversed.v1"
    POINTS_REDEEMED: Final = "PointsRedeemed.v1"
    POINTS_EXPIRED: Final = "PointsExpired.v1"
    POINTS_ADJUSTED: Final = "PointsAdjusted.v1"
    TIER_CHANGED: Final = "TierChanged.v1"
