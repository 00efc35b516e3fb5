"""infra: each topology route is a method with the right authorizer, integration and throttle."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm.names import Scope
from ecrm_infra import topology
from ecrm_infra.topology import Route
from ecrm_infra.topology.clients import MACHINE_CLIENTS

from tests.infra.synth import Synth, ref_id

ROUTES = topology.routes()


def _resource_paths(synth: Synth) -> dict[str, str]:
    """API Gateway resource logical id -> its full path, walking PathPart up to the root."""
    resources = synth.resources("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(ref_id(parent))
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def _methods(synth: Synth, route: Route, path: str) -> list[dict[str, Any]]:
    paths = _resource_paths(synth)
    return [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == route.method
        and "Ref" in m["Properties"]["ResourceId"]
        and paths[ref_id(m["Properties"]["ResourceId"])] == path
    ]


def test_the_topology_has_public_and_protected_routes() -> None:
    assert {r.public for r, _ in ROUTES} == {True, False}


@pytest.mark.parametrize(("route", "fn"), ROUTES, ids=lambda v: f"{v.method} {v.path}" if isinstance(v, Route) else "")
def test_route_authorization_and_integration(synth: Synth, route: Route, fn: topology.Function) -> None:
    staff = _methods(synth, route, route.path)
    machine = _methods(synth, route, route.machine_path)
    assert (len(staff), len(machine)) == (
        int(route.path in route.api_paths),
        int(route.machine_path in route.api_paths),
    )
    for method in staff:
        if route.public:
            assert method["AuthorizationType"] == "NONE"
            assert "AuthorizerId" not in method
        else:  # staff ID tokens: a Cognito method without scopes
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
            assert "AuthorizationScopes" not in method and not method.get("ApiKeyRequired")
        _integrates(synth, method, fn)
    for method in machine:  # machine clients: access tokens with one of the scopes, and an API key
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["AuthorizationScopes"] == [Scope.full(scope) for scope in route.scopes]
        assert method["ApiKeyRequired"] is True
        _integrates(synth, method, fn)
    for method in staff + machine:
        if not route.public:
            assert synth.props(ref_id(method["AuthorizerId"]))["Type"] == "COGNITO_USER_POOLS"


def _integrates(synth: Synth, method: dict[str, Any], fn: topology.Function) -> None:
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert {"Fn::GetAtt": [synth.function_id(fn), "Arn"]} in integration["Uri"]["Fn::Join"][1]


def test_each_machine_client_gets_client_credentials_for_its_scopes_and_a_usage_plan(synth: Synth) -> None:
    (server,) = synth.resources("AWS::Cognito::UserPoolResourceServer").values()
    assert server["Properties"]["Identifier"] == Scope.SERVER
    assert {s["ScopeName"] for s in server["Properties"]["Scopes"]} == set(Scope.ALL)
    assert len(synth.resources("AWS::Cognito::UserPoolDomain")) == 1  # its /oauth2/token issues the tokens
    clients = {
        c["Properties"]["ClientName"]: c["Properties"]
        for c in synth.resources("AWS::Cognito::UserPoolClient").values()
        if c["Properties"].get("AllowedOAuthFlows") == ["client_credentials"]
    }
    plans = {
        p["Properties"]["UsagePlanName"]: p["Properties"]
        for p in synth.resources("AWS::ApiGateway::UsagePlan").values()
    }
    assert set(clients) == {f"ecrm-{c.name}" for c in MACHINE_CLIENTS} == set(plans)
    for declared in MACHINE_CLIENTS:
        client = clients[f"ecrm-{declared.name}"]
        assert client["GenerateSecret"] is True
        assert client.get("ExplicitAuthFlows", []) in ([], ["ALLOW_REFRESH_TOKEN_AUTH"])  # no user sign-in
        granted = [scope["Fn::Join"][1][-1] for scope in client["AllowedOAuthScopes"]]
        assert granted == [f"/{scope}" for scope in declared.scopes]
        throttle = plans[f"ecrm-{declared.name}"]["Throttle"]
        assert (throttle["RateLimit"], throttle["BurstLimit"]) == (declared.rate, declared.burst)
    assert len(synth.resources("AWS::ApiGateway::ApiKey")) == len(MACHINE_CLIENTS)
    assert len(synth.resources("AWS::ApiGateway::UsagePlanKey")) == len(MACHINE_CLIENTS)


def _stage(synth: Synth) -> dict[str, Any]:
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    return stage["Properties"]


def test_public_routes_are_throttled_tighter_than_the_stage_default(synth: Synth) -> None:
    settings = _stage(synth)["MethodSettings"]
    (default,) = [s for s in settings if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    public = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings if s["ResourcePath"] != "/*"}
    assert set(public) == {("/" + r.path.replace("/", "~1"), r.method) for r, _ in ROUTES if r.public}
    for setting in public.values():
        assert setting["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
        assert setting["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]


def test_stage_logs_access_as_json_and_traces(synth: Synth) -> None:
    stage = _stage(synth)
    assert stage["TracingEnabled"] is True
    log_format = stage["AccessLogSetting"]["Format"]
    assert log_format.startswith("{") and '"requestId"' in log_format
    assert "sourceIp" not in log_format  # no personal data in access logs
    log_group = synth.template["Resources"][ref_id(stage["AccessLogSetting"]["DestinationArn"])]
    assert log_group["Type"] == "AWS::Logs::LogGroup"


def test_multipart_forms_and_zip_exports_pass_as_binary_and_cors_allows_the_configured_origins(synth: Synth) -> None:
    (api,) = synth.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == ["multipart/form-data", "application/zip"]
    options = [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert options
    origins = topology.CONTEXT_DEFAULTS["allowedOrigins"].split(",")
    for method in options:
        assert method["AuthorizationType"] == "NONE"
        template = str(method["Integration"]["IntegrationResponses"])
        assert all(origin in template for origin in origins)
