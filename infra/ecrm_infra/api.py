"""The REST API: one method per topology route and kind of caller, Cognito on every protected one.

A route that names roles is a method at its path taking staff ID tokens; a route that names scopes
is also (or only) a method at `/integrations` + its path taking machine clients' access tokens with
one of those scopes and an API key, whose usage plan throttles that client (decision 85).

The API, its authorizer and its stage belong to the platform (root stack); each capability's
resources and methods to the capability's nested stack.

The authorizer proves who the caller is; which group may call a route is declared with the route
(ecrm.access) and checked by each function's edge (ecrm.api.EdgeResolver) before anything else.
Public routes are open, so they get a tighter throttle here and a WAF rate rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from ecrm.names import Scope

from ecrm_infra import topology
from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import Route
from ecrm_infra.topology.clients import MachineClient

STAGE = "prod"
DESCRIPTION = "eCRM: public capture routes and the role-protected back office"
_PUBLIC_REASON = (
    "Public by design (topology Route without roles): web-form capture and consent confirmation are "
    "called by anonymous visitors; throttled per method here and rate-limited per IP by the WAF."
)


@dataclass(frozen=True)
class Throttle:
    rate: float  # steady requests per second
    burst: int


DEFAULT_THROTTLE = Throttle(rate=50, burst=100)
PUBLIC_THROTTLE = Throttle(rate=10, burst=20)  # per method, across all callers: forms are low volume


def method_options_key(route: Route) -> str:
    return f"{route.path}/{route.method}"


def _public_method_options() -> dict[str, apigw.MethodDeploymentOptions]:
    return {
        method_options_key(route): apigw.MethodDeploymentOptions(
            throttling_rate_limit=PUBLIC_THROTTLE.rate, throttling_burst_limit=PUBLIC_THROTTLE.burst
        )
        for route, _ in topology.routes()
        if route.public
    }


_ACCESS_LOG = apigw.AccessLogFormat.json_with_standard_fields(
    caller=False,  # no IAM callers; and no source IP or user in the access log: PII stays out
    http_method=True,
    ip=False,
    protocol=True,
    request_time=True,
    resource_path=True,
    response_length=True,
    status=True,
    user=False,
)


class EcrmApi(Construct):
    """The API itself, its authorizer and (once every capability added its routes) its stage.

    Routes live in the capabilities' nested stacks (`CapabilityRoutes`), on the API imported by id
    (CDK's "Breaking up Methods and Resources across Stacks"): the deployment is made here, last,
    depends on those stacks, and its logical id carries a fingerprint of every route, so a change
    of routes makes a new deployment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        cors_origins: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.THREE_MONTHS)
        self.cors = apigw.CorsOptions(
            allow_origins=list(cors_origins),
            allow_methods=sorted({route.method for route, _ in topology.routes()}),
            allow_headers=apigw.Cors.DEFAULT_HEADERS,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description=DESCRIPTION,
            binary_media_types=["multipart/form-data", "application/zip"],  # the GDPR export as a zip
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide role API Gateway needs to write execution logs (logging_level below):
            # made here, stated once (no feature flag says otherwise), and kept when the stack goes,
            # since the account setting it backs serves every API in the region (decision 55).
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            default_cors_preflight_options=self.cors,
            deploy=False,  # deployed by `deploy` below, after the capabilities' stacks
        )
        acknowledge(
            self.rest_api,
            "APIG2",
            "The handlers validate every request with pydantic and answer 4xx naming the field; API Gateway "
            "models would duplicate those schemas and answer in a different error shape.",
        )
        acknowledge(
            self.rest_api,
            "IAM4",
            "API Gateway's account-level logging role uses the policy AWS provides for exactly that purpose.",
            applies_to="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
        # L1: the L2 authorizer binds itself to one RestApi object, and the nested stacks each hold
        # their own (imported) one; methods name it by id. Path and name are the L2's, so a deployed
        # authorizer stays as it is.
        holder = Construct(self, "Authorizer")
        self.authorizer = apigw.CfnAuthorizer(
            holder,
            "Resource",
            rest_api_id=self.rest_api.rest_api_id,
            name=cdk.Names.unique_id(holder),
            type="COGNITO_USER_POOLS",
            identity_source="method.request.header.Authorization",
            provider_arns=[user_pool.user_pool_arn],
        )
        self._authorizer_fingerprint = {"id": self.authorizer.node.path, "pool": user_pool.user_pool_arn}
        self._stage: apigw.Stage | None = None
        # Every API resource a capability's stack made, by path ("contacts/{contact_id}"): a later
        # capability routing below one of them takes it by id instead of making it again.
        self.resources: dict[str, apigw.IResource] = {}

    @property
    def stage(self) -> apigw.Stage:
        if self._stage is None:
            raise RuntimeError("the API is not deployed yet: call deploy() after adding the capabilities")
        return self._stage

    def deploy(self, routes: Sequence[CapabilityRoutes]) -> apigw.Stage:
        # Under the RestApi, where `deploy=True` put them: the stage keeps its logical id (a new one
        # would be created before the old is deleted, and two stages cannot share the name).
        deployment = apigw.Deployment(self.rest_api, "Deployment", api=self.rest_api, description=DESCRIPTION)
        deployment.add_to_logical_id(
            {
                "authorizer": self._authorizer_fingerprint,
                "cors": {"origins": self.cors.allow_origins, "methods": self.cors.allow_methods},
                "routes": {r.node.path: r.fingerprint for r in routes},
            }
        )
        for capability_routes in routes:
            deployment.node.add_dependency(cdk.Stack.of(capability_routes))
        self._stage = apigw.Stage(
            self.rest_api,
            f"DeploymentStage.{STAGE}",
            deployment=deployment,
            stage_name=STAGE,
            access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
            access_log_format=_ACCESS_LOG,
            tracing_enabled=True,
            metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,  # full request logs would carry personal data
            throttling_rate_limit=DEFAULT_THROTTLE.rate,
            throttling_burst_limit=DEFAULT_THROTTLE.burst,
            method_options=_public_method_options(),
        )
        self.rest_api.deployment_stage = self._stage
        return self._stage


def _logical(path: str) -> str:
    """A construct id from a resource path: `contacts/{contact_id}` -> `ContactsContactId`."""
    words = path.replace("{", "").replace("}", "").replace("/", "_").replace("-", "_").split("_")
    return "".join(word[:1].upper() + word[1:] for word in words if word)


@jsii.implements(apigw.IAuthorizer)
class _AuthorizerById:
    """The platform's Cognito authorizer as a method sees it from a nested stack: an id."""

    def __init__(self, authorizer_id: str) -> None:
        self._authorizer_id = authorizer_id

    @property
    def authorizer_id(self) -> str:
        return self._authorizer_id

    @property
    def authorization_type(self) -> apigw.AuthorizationType:
        return apigw.AuthorizationType.COGNITO


class CapabilityRoutes(Construct):
    """A capability's resources and methods, made in its own (nested) stack on the imported API."""

    def __init__(self, scope: Construct, construct_id: str, *, api: EcrmApi) -> None:
        super().__init__(scope, construct_id)
        self._api = apigw.RestApi.from_rest_api_attributes(
            self,
            "RestApi",
            rest_api_id=api.rest_api.rest_api_id,
            root_resource_id=api.rest_api.rest_api_root_resource_id,
        )
        self._cors = api.cors
        self._authorizer = _AuthorizerById(api.authorizer.ref)
        self._shared = api.resources  # made by any capability's stack so far
        self._own: dict[str, apigw.IResource] = {}  # made here, or another stack's taken by id
        self.methods: list[apigw.Method] = []
        self.fingerprint: list[dict[str, object]] = []  # what the deployment must follow

    def _resource(self, path: str) -> apigw.IResource:
        """The resource of `path`, making in this stack each part no stack has made yet.

        A part an earlier capability's stack made (`/contacts/{contact_id}`) is taken by id, passed
        through the root as a nested-stack parameter, so a capability may route below another's
        resource (`/contacts/{contact_id}/timeline`) without two stacks making one resource."""
        resource: apigw.IResource = self._api.root
        walked = ""
        for part in path.strip("/").split("/"):
            walked = f"{walked}/{part}" if walked else part
            if walked in self._own:
                resource = self._own[walked]
            elif walked in self._shared:
                made = self._shared[walked]
                resource = apigw.Resource.from_resource_attributes(
                    self, f"Shared{_logical(walked)}", resource_id=made.resource_id, rest_api=self._api, path=made.path
                )
                self._own[walked] = resource
            else:
                # The imported root, and a resource taken by id, know nothing of the API's CORS
                # default: each resource made here carries it (the ones below it inherit it).
                resource = resource.add_resource(part, default_cors_preflight_options=self._cors)
                self._own[walked] = self._shared[walked] = resource
        return resource

    def add_route(self, route: Route, handler: lambda_.IFunction) -> list[apigw.Method]:
        integration = apigw.LambdaIntegration(handler, allow_test_invoke=False)
        self.fingerprint.append(
            {
                "method": route.method,
                "path": route.path,
                "roles": list(route.roles),
                "scopes": list(route.scopes),
                "handler": handler.node.path,
            }
        )
        made = [self._method(route, path, integration) for path in route.api_paths]
        self.methods.extend(made)
        return made

    def _method(self, route: Route, path: str, integration: apigw.Integration) -> apigw.Method:
        resource = self._resource(path)
        if path == route.machine_path:  # machine clients: access tokens with one of the scopes, and an API key
            return resource.add_method(
                route.method,
                integration,
                authorizer=self._authorizer,
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorization_scopes=[Scope.full(scope) for scope in route.scopes],
                api_key_required=True,
            )
        if route.public:
            method = resource.add_method(route.method, integration, authorization_type=apigw.AuthorizationType.NONE)
            for rule in ("APIG4", "COG4"):
                acknowledge(method, rule, _PUBLIC_REASON)
            return method
        # staff: Cognito takes ID tokens on a method without scopes
        return resource.add_method(
            route.method, integration, authorizer=self._authorizer, authorization_type=apigw.AuthorizationType.COGNITO
        )


class ClientPlans(Construct):
    """One API key and usage plan per machine client, on the API's stage: the plan's rate and burst
    are that client's throttle (the stage's own throttle still caps every caller together)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, api: EcrmApi, clients: tuple[MachineClient, ...]
    ) -> None:
        super().__init__(scope, construct_id)
        self.keys: dict[str, apigw.IApiKey] = {}
        for client in clients:
            plan = api.rest_api.add_usage_plan(
                f"Plan-{client.name}",
                name=f"ecrm-{client.name}",
                description=f"machine client {client.name}: {', '.join(client.scopes)}",
                throttle=apigw.ThrottleSettings(rate_limit=client.rate, burst_limit=client.burst),
                api_stages=[apigw.UsagePlanPerApiStage(api=api.rest_api, stage=api.stage)],
            )
            key = api.rest_api.add_api_key(f"Key-{client.name}", api_key_name=f"ecrm-{client.name}")
            plan.add_api_key(key)
            self.keys[client.name] = key
            cdk.CfnOutput(self, f"ApiKeyId-{client.name}", value=key.key_id)
