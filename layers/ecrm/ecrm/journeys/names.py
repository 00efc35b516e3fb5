"""Names of the journeys capability: its table, queue, schedule group and detail-types.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike.
"""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the journeys capability."""

    JOURNEYS_TABLE: Final = "JOURNEYS_TABLE_NAME"
    JOURNEY_SCHEDULE_GROUP: Final = "JOURNEY_SCHEDULE_GROUP_NAME"
    RUN_QUEUE_URL: Final = "JOURNEY_RUN_QUEUE_URL"
    RUN_QUEUE_ARN: Final = "JOURNEY_RUN_QUEUE_ARN"


class Resource(names.Resource):
    """Logical names of the journeys capability's resources."""

    JOURNEYS_TABLE: Final = "Journeys"  # definitions, versions, stats, and each contact's progress
    JOURNEY_RUN_QUEUE: Final = "JourneyRunQueue"  # events, due timers and resume pages, one runner
    JOURNEY_SCHEDULES: Final = "JourneySchedules"


class DetailType(names.DetailType):
    """Versioned detail-types of the journeys capability."""

    JOURNEY_STEP_REACHED: Final = "JourneyStepReached.v1"  # a webhook step: the webhooks deliver it
