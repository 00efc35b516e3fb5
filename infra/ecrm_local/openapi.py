"""One OpenAPI document for the whole API, merged from each API function's own resolver.

Every API handler module exposes its Powertools resolver as `app`; the topology says which routes
exist and which need a signed-in caller (bearer security is added to those, with the 401 and 403
the authorizer and the role check answer). A route that names scopes is also documented at its
machine path (`/integrations/...`, decision 85) with OAuth2 client credentials and an API key.
Every error answer is documented with the one error body `ecrm.api.error` writes, in place of
Powertools' default `{"detail": [...]}`, which our resolvers never send.
"""

from __future__ import annotations

import copy
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ecrm.api import ERROR_CONTENT
from ecrm.names import Scope
from ecrm_infra import topology
from pydantic import BaseModel, Field

from ecrm_local import lambdas

TITLE = "eCRM API"
BEARER = "bearerAuth"
MACHINE = "clientCredentials"  # a machine client's access token (OAuth2 client credentials, Cognito)
API_KEY = "apiKey"  # its API key: API Gateway's usage plan throttles each client by it
SCOPE_TEXT = {
    Scope.CONTACTS_READ: "read contacts and the change feed",
    Scope.CONTACTS_WRITE: "change a contact's fields, tags and consent",
    Scope.LOYALTY_READ: "read a member's balance and ledger",
    Scope.LOYALTY_REDEEM: "redeem a member's points",
    Scope.ORDERS_WRITE: "post the shop's orders and refunds",
    Scope.CONTACTS_IMPORT: "import contacts from CSV (consent with its proof recorded as given)",
    Scope.CONTACTS_EXPORT: "export contacts to CSV",
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class FieldError(BaseModel):
    field: str = Field(description="the request field at fault, dotted (`custom.color`), or `body`")
    message: str


class Error(BaseModel):
    """Every 4xx and 5xx answer of the API (API Gateway's own 401/403/429 carry `message` only)."""

    message: str
    errors: list[FieldError] | None = Field(default=None, description="one entry per field at fault")
    allowed_roles: list[str] | None = Field(
        default=None, description="403 from the role check: the roles that may call this route"
    )
    allowed_scopes: list[str] | None = Field(
        default=None, description="403 from the scope check of a machine client: the scopes that may call this route"
    )


_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _version() -> str:
    try:
        return version("ecrm")
    except PackageNotFoundError:
        return "0.0.0"


def _function_spec(fn: topology.Function) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app = lambdas.handler_module(fn.name).app
    schemes = {BEARER: HTTPBearer(scheme="bearer", bearerFormat="JWT", description="local: `ecrm token --role admin`")}
    text = app.get_openapi_json_schema(title=TITLE, version=_version(), security_schemes=schemes)
    spec: dict[str, Any] = json.loads(text)
    return spec


def _merge_paths(merged: dict[str, Any], fn: topology.Function, paths: dict[str, Any]) -> None:
    declared = {(r.method.lower(), r.path): r for r in fn.routes}
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            route = declared.pop((method, path), None)
            if route is None:
                raise ValueError(f"{fn.name} serves {method.upper()} {path}, which the topology does not declare")
            if (method, path) in {(m, p) for p, ops in merged.items() for m in ops}:
                raise ValueError(f"{method.upper()} {path} is served by two functions")
            _add_route(merged, route, path, method, operation)
    if declared:
        missing = sorted(f"{m.upper()} {p}" for m, p in declared)
        raise ValueError(f"{fn.name} does not serve topology route(s): {missing}")


def _add_route(
    merged: dict[str, Any], route: topology.Route, path: str, method: str, operation: dict[str, Any]
) -> None:
    """The operation at each path the API serves it at: staff (roles, or public) and machine (scopes)."""
    if route.scopes:
        _add(merged, route.machine_path, method, _machine_operation(operation, route, path))
    if route.roles or route.public:
        if not route.public:
            operation.setdefault("security", [{BEARER: []}])
        _document_errors(operation, route, path, machine=False)
        _add(merged, path, method, operation)


def _add(merged: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> None:
    merged.setdefault(path, {})[method] = operation


def _machine_operation(operation: dict[str, Any], route: topology.Route, path: str) -> dict[str, Any]:
    """The route's operation as a machine client calls it: its own id, client credentials with the
    route's scopes and an API key, and the usage plan's 429."""
    machine = copy.deepcopy(operation)
    machine["operationId"] = f"{operation.get('operationId', route.method.lower())}_integrations"
    machine["security"] = [{MACHINE: [Scope.full(scope) for scope in route.scopes], API_KEY: []}]
    machine["tags"] = ["integrations"]
    _document_errors(machine, route, path, machine=True)
    return machine


def security_schemes() -> dict[str, Any]:
    """The machine clients' schemes (the bearer scheme comes from each resolver)."""
    return {
        MACHINE: {
            "type": "oauth2",
            "description": (
                "OAuth2 client credentials from the staff user pool's domain (`ecrm token --client NAME --scope ...` "
                "locally); send the access token as `Authorization: Bearer`"
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://ecrm-ACCOUNT.auth.REGION.amazoncognito.com/oauth2/token",
                    "scopes": {Scope.full(scope): SCOPE_TEXT[scope] for scope in Scope.ALL},
                }
            },
        },
        API_KEY: {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "the client's API key: its usage plan sets its rate and burst (`ecrm api-key` locally)",
        },
    }


UNREADABLE_BODY = (
    "the body cannot be read: not valid JSON (the position is in the message), nested too deeply, a number "
    "too long, not UTF-8, or multipart without a boundary; `errors[].field` names `body` or `Content-Type`"
)
# What an answer of each family means, when the route declared none of its own.
FAMILY = {
    "400": "a value the API cannot use (a query value, a cursor, an unreadable body); `errors[].field` names it",
    "413": "the body is larger than API Gateway's 10 MiB",
    "422": "a field is not valid; `errors[].field` names it",
}
BODY_METHODS = ("POST", "PUT", "PATCH")
BODYLESS = ("204", "301", "302", "303", "307", "308")  # no content: a client reads the status and headers only


def _document_errors(operation: dict[str, Any], route: topology.Route, path: str, machine: bool) -> None:
    """The answers every operation of a shape can give, added where its function declared none:
    the authorizer's and the role check's, 404 for an id, 409 for a change, and the 4xx family of
    its inputs (a body: 400, 413, 422; query parameters: 400, 422)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    _document_refusals(responses, route, path, machine)
    if route.method in BODY_METHODS:  # every body is decoded before validation (ecrm.api)
        responses.setdefault("400", {"description": UNREADABLE_BODY})
    for status in _input_family(operation, route):
        responses.setdefault(status, {"description": FAMILY[status]})
    if "422" in responses and responses["422"].get("description") == "Validation Error":
        responses["422"] = {"description": FAMILY["422"]}
    for status, answer in responses.items():
        if status in BODYLESS:
            answer.pop("content", None)
        # Role-protected routes answer JSON only; public routes declare theirs (ecrm.webforms.rejections).
        elif int(status) >= 400 and (not route.public or "content" not in answer):
            answer["content"] = ERROR_CONTENT


def _document_refusals(responses: dict[str, Any], route: topology.Route, path: str, machine: bool) -> None:
    if machine:
        responses["401"] = {"description": "no access token, or not a valid client-credentials one (the authorizer)"}
        allowed = ", ".join(Scope.full(scope) for scope in route.scopes)
        responses["403"] = {"description": f"no API key, or your client's scopes may not do this; allowed: {allowed}"}
        responses.setdefault("429", {"description": "over your client's rate or burst (its usage plan): retry later"})
    elif not route.public:
        responses.setdefault("401", {"description": "no bearer token, or not a valid one (the authorizer)"})
        responses.setdefault("403", {"description": "your role may not do this"})
        responses["403"]["description"] += f"; allowed: {', '.join(route.roles)}"
    if "{" in path:
        responses.setdefault("404", {"description": "nothing with that id"})
    if not route.public and (route.method in ("PUT", "PATCH") or (route.method == "POST" and "{" in path)):
        conflict = "changed since the `expected_version` sent, or its state does not allow this (nothing is written)"
        responses.setdefault("409", {"description": conflict})


def _input_family(operation: dict[str, Any], route: topology.Route) -> tuple[str, ...]:
    if "requestBody" in operation or route.method in BODY_METHODS:
        return ("400", "413", "422")
    if any(p.get("in") == "query" for p in operation.get("parameters", ())):
        return ("400", "422")
    return ()


def _merge_components(merged: dict[str, Any], components: dict[str, Any]) -> None:
    for section, entries in components.items():
        target = merged.setdefault(section, {})
        for name, definition in entries.items():
            if name in target and target[name] != definition:
                raise ValueError(f"components.{section}.{name} differs between functions")
            target[name] = definition


# pydantic writes a timedelta as ISO 8601 with fractional seconds (`PT3M58.974825S`), which JSON
# Schema's `format: duration` (RFC 3339's grammar) refuses: the document says what is sent instead.
DURATION = {"type": "string", "pattern": r"^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"}


def _durations(node: Any) -> Any:
    """`node` with every `format: duration` string schema replaced by DURATION's pattern."""
    if isinstance(node, dict):
        if node.get("format") == "duration":
            return {**{k: v for k, v in node.items() if k != "format"}, **DURATION}
        return {k: _durations(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_durations(v) for v in node]
    return node


def build_spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    base: dict[str, Any] = {}
    for fn in topology.FUNCTIONS:
        if not fn.routes:
            continue
        spec = _function_spec(fn)
        base = base or {k: v for k, v in spec.items() if k not in ("paths", "components")}
        _merge_paths(paths, fn, spec.get("paths", {}))
        _merge_components(components, spec.get("components", {}))
    schemas = components.setdefault("schemas", {})
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    defs = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs"), Error=defs)
    components.setdefault("securitySchemes", {}).update(security_schemes())
    merged: dict[str, Any] = _durations({**base, "paths": paths, "components": components})
    return merged


def to_json(spec: dict[str, Any]) -> str:
    """The committed form (docs/openapi.json): sorted keys, indent 2, trailing newline."""
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
