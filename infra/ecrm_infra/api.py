"""The REST API: one method per topology route, Cognito on every route that names roles.

The authorizer proves who the caller is; which group may call a route is declared with the route
(ecrm.access) and checked by each function's edge (ecrm.api.EdgeResolver) before anything else.
Public routes are open, so they get a tighter throttle here and a WAF rate rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ecrm_infra import topology
from ecrm_infra.nag import acknowledge
from ecrm_infra.topology import Route

STAGE = "prod"
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
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="eCRM: public capture routes and the role-protected back office",
            binary_media_types=["multipart/form-data"],
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide role API Gateway needs to write execution logs (logging_level below).
            cloud_watch_role=True,
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(cors_origins),
                allow_methods=sorted({route.method for route, _ in topology.routes()}),
                allow_headers=apigw.Cors.DEFAULT_HEADERS,
            ),
            deploy_options=apigw.StageOptions(
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
            ),
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
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[user_pool])

    @property
    def stage(self) -> apigw.Stage:
        return self.rest_api.deployment_stage

    def add_route(self, route: Route, handler: lambda_.IFunction) -> apigw.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        integration = apigw.LambdaIntegration(handler, allow_test_invoke=False)
        if route.public:
            method = resource.add_method(route.method, integration, authorization_type=apigw.AuthorizationType.NONE)
            for rule in ("APIG4", "COG4"):
                acknowledge(method, rule, _PUBLIC_REASON)
            return method
        return resource.add_method(
            route.method,
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )
