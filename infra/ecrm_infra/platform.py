"""What every capability shares: bus, signing key, schedules, layers, staff, API (+ WAF), SES.

The root stack holds it; each capability's stack (its tables, queues, functions, routes, alarms)
reads it through nested-stack parameters. `bindings` maps each resource name the topology uses to
its environment value and its grants; capabilities add their tables and queues to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct
from ecrm.names import Resource

from ecrm_infra import topology
from ecrm_infra.api import CapabilityRoutes, ClientPlans, EcrmApi
from ecrm_infra.auth import MachineCredentials, StaffDirectory
from ecrm_infra.bindings import Binding, BusBinding, MailBinding, SecretBinding
from ecrm_infra.context import DeployContext
from ecrm_infra.layers import Layers
from ecrm_infra.nag import acknowledge
from ecrm_infra.waf import ApiFirewall


class Platform(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, ctx: DeployContext) -> None:
        super().__init__(scope, construct_id)
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
        # Every mail's events (campaign mail and the double opt-in mail alike) go to the account's
        # default bus, the only bus SES publishes to; the campaigns capability's rule takes them.
        self.mail_events = ses.ConfigurationSetEventDestination(
            self,
            "MailEventsToDefaultBus",
            configuration_set=self.configuration_set,
            destination=ses.EventDestination.event_bus(
                events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
            ),
            events=[
                ses.EmailSendingEvent.SEND,
                ses.EmailSendingEvent.DELIVERY,
                ses.EmailSendingEvent.BOUNCE,
                ses.EmailSendingEvent.COMPLAINT,
                ses.EmailSendingEvent.OPEN,
                ses.EmailSendingEvent.CLICK,
            ],
        )
        self.layers = Layers(self, "Layers", architecture=ctx.architecture)
        self.staff = StaffDirectory(self, "Staff")
        self.machines = MachineCredentials(
            self,
            "Machines",
            user_pool=self.staff.user_pool,
            clients=ctx.machine_clients,
            domain_prefix=ctx.auth_domain_prefix,
        )
        self._machine_clients = ctx.machine_clients
        self.api = EcrmApi(self, "Api", user_pool=self.staff.user_pool, cors_origins=ctx.cors_origins)
        self.firewall: ApiFirewall | None = None
        self._waf = ctx.waf
        self.scheduler_role = self._scheduler_role()
        # Capabilities add their tables and queues here before making their functions.
        self.bindings: dict[str, Binding] = {
            Resource.EVENT_BUS: BusBinding(self.bus),
            Resource.SIGNING_SECRET: SecretBinding(self.signing_secret),
            Resource.MAIL: MailBinding.of(
                cdk.Stack.of(self),
                sender=ctx.values["senderAddress"],
                configuration_set=self.configuration_set.configuration_set_name,
            ),
        }

    def deploy_api(self, routes: Sequence[CapabilityRoutes]) -> None:
        """Once every capability has added its routes: the API's deployment and stage, and its WAF."""
        stage = self.api.deploy(routes)
        self.client_plans = ClientPlans(self, "ClientPlans", api=self.api, clients=self._machine_clients)
        if self._waf:
            public = [route for route, _ in topology.routes() if route.public]
            self.firewall = ApiFirewall(self, "Firewall", stage=stage, public_routes=public)
        else:
            acknowledge(
                stage,
                "APIG3",
                "WAF switched off on purpose with context waf=false (e.g. a short-lived test stack); "
                "the per-method throttles still apply.",
            )

    def _scheduler_role(self) -> iam.Role:
        """The role Scheduler assumes to deliver every capability's timers (queues that are schedule
        targets grant it SendMessage; the groups are the capabilities' own)."""
        stack = cdk.Stack.of(self)
        return iam.Role(
            self,
            "SchedulerRole",
            description="EventBridge Scheduler delivering this stack's timers to their queues",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
