"""infra: each topology route is a method with the right authorizer, integration and throttle."""

from __future__ import annotations

from typing import Any

import pytest
from ecrm_infra import topology
from ecrm_infra.topology import Route

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


def _method(synth: Synth, route: Route) -> dict[str, Any]:
    paths = _resource_paths(synth)
    (method,) = [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == route.method
        and "Ref" in m["Properties"]["ResourceId"]
        and paths[ref_id(m["Properties"]["ResourceId"])] == route.path
    ]
    return method


def test_the_topology_has_public_and_protected_routes() -> None:
    assert {r.public for r, _ in ROUTES} == {True, False}


@pytest.mark.parametrize(("route", "fn"), ROUTES, ids=lambda v: f"{v.method} {v.path}" if isinstance(v, Route) else "")
def test_route_authorization_and_integration(synth: Synth, route: Route, fn: topology.Function) -> None:
    method = _method(synth, route)
    if route.public:
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method
    else:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        authorizer = synth.props(ref_id(method["AuthorizerId"]))
        assert authorizer["Type"] == "COGNITO_USER_POOLS"
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert {"Fn::GetAtt": [synth.function_id(fn), "Arn"]} in integration["Uri"]["Fn::Join"][1]


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
