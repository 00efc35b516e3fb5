"""Names of the contact 360 capability. It reads every capability's table by that capability's own
names (`ecrm.cases.names.Env.CASES_TABLE`, ...) and adds none yet.

Plain constants (no CDK, no boto3), read by the topology and the runtime alike.
"""

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the contact 360 capability (the tables it reads are others')."""


class Resource(names.Resource):
    """Logical names of the contact 360's resources (none of its own yet)."""
