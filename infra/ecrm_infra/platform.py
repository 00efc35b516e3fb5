"""What every capability shares: table, bus, signing key, layers, staff directory, API (+ WAF), SES.

`bindings` maps each resource name the topology uses to its environment value and its grants.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct
from ecrm.names import Resource

from ecrm_infra import topology
from ecrm_infra.api import EcrmApi
from ecrm_infra.auth import StaffDirectory
from ecrm_infra.bindings import Binding, BusBinding, MailBinding, SecretBinding, TableBinding
from ecrm_infra.context import DeployContext
from ecrm_infra.data import GSI1, contacts_table
from ecrm_infra.layers import Layers
from ecrm_infra.nag import acknowledge
from ecrm_infra.waf import ApiFirewall

# The grant name the topology uses for sending mail (SES is account-wide, not a named resource).
MAIL = "ses"


class Platform(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, ctx: DeployContext) -> None:
        super().__init__(scope, construct_id)
        self.table = contacts_table(self, Resource.CONTACTS_TABLE)
        self.bus = events.EventBus(self, Resource.EVENT_BUS, description="eCRM domain events")
        self.signing_secret = secretsmanager.Secret(
            self,
            Resource.SIGNING_SECRET,
            description="HMAC key that signs consent and unsubscribe links",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.signing_secret,
            "SMG4",
            "Rotating the link-signing key would invalidate every confirmation link in flight; rotation "
            "needs verification against current and previous key in ecrm.signing first.",
        )
        self.configuration_set = ses.ConfigurationSet(
            self,
            "MailConfigurationSet",
            configuration_set_name=ctx.values["sesConfigurationSet"],
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        self.layers = Layers(self, "Layers", architecture=ctx.architecture)
        self.staff = StaffDirectory(self, "Staff")
        self.api = EcrmApi(self, "Api", user_pool=self.staff.user_pool, cors_origins=ctx.cors_origins)
        self.firewall: ApiFirewall | None = None
        if ctx.waf:
            public = [route for route, _ in topology.routes() if route.public]
            self.firewall = ApiFirewall(self, "Firewall", stage=self.api.stage, public_routes=public)
        else:
            acknowledge(
                self.api.stage,
                "APIG3",
                "WAF switched off on purpose with context waf=false (e.g. a short-lived test stack); "
                "the per-method throttles still apply.",
            )
        self.bindings: dict[str, Binding] = {
            Resource.CONTACTS_TABLE: TableBinding(self.table, index_names=(GSI1,)),
            Resource.EVENT_BUS: BusBinding(self.bus),
            Resource.SIGNING_SECRET: SecretBinding(self.signing_secret),
            MAIL: MailBinding.of(
                cdk.Stack.of(self),
                sender=ctx.values["senderAddress"],
                configuration_set=self.configuration_set.configuration_set_name,
            ),
        }
