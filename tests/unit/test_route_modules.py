"""unit: every API function's route code comes in through `EdgeResolver.routes_from`, one module per
declared group of routes, loaded on the first request for one of them (decision 83). A module must
register exactly the routes it was declared with: one it registered but was not declared with would
answer 404 until some other route loaded it; one it was declared with but does not register, 404
always."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.utilities.typing import LambdaContext
from ecrm import access
from ecrm.access import Route
from ecrm.api import EdgeResolver, build_resolver
from ecrm.webforms import request_body
from ecrm_infra import topology
from pydantic import BaseModel

API_FUNCTIONS = [fn for fn in topology.FUNCTIONS if fn.routes]


def _handler(fn: topology.Function) -> ModuleType:
    return importlib.import_module(f"{fn.name}.handler")


def _registered(app: EdgeResolver) -> set[tuple[str, str]]:
    routes = app._static_routes + app._dynamic_routes
    return {(r.method, re.sub(r"<(\w+)>", r"{\1}", r.path)) for r in routes}


@pytest.mark.parametrize("fn", API_FUNCTIONS, ids=lambda fn: fn.name)
def test_each_route_module_registers_exactly_the_routes_it_is_declared_with(fn: topology.Function) -> None:
    app = _handler(fn).app
    assert isinstance(app, EdgeResolver)
    declared: set[tuple[str, str]] = set()
    for module in app.route_modules:
        fresh = build_resolver()
        importlib.import_module(module.name).register(fresh, *module.args)
        mine = {(r.method, r.path) for r in module.routes}
        assert _registered(fresh) == mine, module.name
        declared |= mine
    registered_by_hand = _registered(app) - declared
    assert declared | registered_by_hand == {(r.method, r.path) for r in fn.routes}


def _event(route: access.Route) -> dict[str, Any]:
    path = re.sub(r"\{\w+\}", "x", route.path)
    claims = {"sub": "u1", "cognito:groups": ",".join(route.roles)}
    return {
        "httpMethod": route.method,
        "resource": route.path,
        "path": path,
        "headers": {"content-type": "application/json"},
        "body": "[",  # unreadable: answered before any service is built
        "requestContext": {"stage": "test", "authorizer": {"claims": claims}},
    }


def test_a_request_loads_the_module_of_its_route_and_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_resolver()
    app.routes_from("ecrm.contacts.api_routes", access.CONTACTS_API, lambda: None)
    app.routes_from("ecrm.contact360.routes", access.CONTACT360_API, lambda: None)
    for name in ("ecrm.contacts.api_routes", "ecrm.contact360.routes"):  # put back after the test
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert not any(m.loaded for m in app.route_modules)

    answer = app.resolve(_event(access.CONTACT360_API[0]), LambdaContext())

    assert answer["statusCode"] in (400, 422)  # the route was found and its input refused: no 404
    assert [m.loaded for m in app.route_modules] == [False, True]
    assert "ecrm.contacts.api_routes" not in sys.modules
    assert _registered(app) == {(r.method, r.path) for r in access.CONTACT360_API}


def test_the_openapi_document_loads_every_module_in_declared_order() -> None:
    app = build_resolver()
    app.routes_from("ecrm.contact360.routes", access.CONTACT360_API, lambda: None)
    app.routes_from("ecrm.contacts.api_routes", access.CONTACTS_API, lambda: None)
    bearer = {"bearerAuth": HTTPBearer(scheme="bearer")}
    paths = list(app.get_openapi_schema(security_schemes=bearer).paths or {})
    assert paths.index("/contacts/{contact_id}/export") < paths.index("/contacts/{contact_id}")  # as declared
    assert all(m.loaded for m in app.route_modules)


def test_a_route_declared_by_two_modules_is_refused() -> None:
    app = build_resolver()
    app.routes_from("ecrm.contacts.api_routes", access.CONTACTS_API, lambda: None)
    with pytest.raises(ValueError, match=re.escape("GET /contacts is in ecrm.contacts.api_routes already")):
        app.routes_from("ecrm.contact360.routes", access.CONTACTS_API[:1], lambda: None)


def test_no_api_function_imports_a_route_module_at_cold_start() -> None:
    """In a fresh interpreter (this one has imported them all): every API handler imported, no
    route module loaded, and each handler's modules are importable by the name it gives."""
    code = (
        "import importlib, importlib.util, sys\n"
        f"apps = [importlib.import_module(n + '.handler').app for n in {[fn.name for fn in API_FUNCTIONS]!r}]\n"
        "names = [m.name for app in apps for m in app.route_modules]\n"
        "print(sorted(n for n in names if n in sys.modules))\n"
        "print(all(importlib.util.find_spec(n) for n in names), len(names))\n"
    )
    loaded, found = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert loaded == "[]"
    assert found == f"True {len(API_FUNCTIONS)}"


def test_a_form_routes_body_schema_is_made_for_the_document_not_for_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    class Probe(BaseModel):
        name: str

    made: list[str] = []
    schema_of = Probe.model_json_schema

    def counted(**kwargs: Any) -> dict[str, Any]:
        made.append("schema")
        return schema_of(**kwargs)

    monkeypatch.setattr(Probe, "model_json_schema", counted)
    app = build_resolver(validation=False)

    @app.post("/contacts", openapi_extensions=request_body(Probe))
    def capture() -> dict[str, str]:
        return {"ok": "yes"}

    event = {**_event(Route("POST", "/contacts")), "body": "{}"}
    assert app.resolve(event, LambdaContext())["statusCode"] == 200
    assert made == []

    document = app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True)
    body = document["paths"]["/contacts"]["post"]["requestBody"]
    assert made == ["schema"]
    assert set(body["content"]) == {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
