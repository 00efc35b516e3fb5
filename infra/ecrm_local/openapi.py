"""One OpenAPI document for the whole API, merged from each API function's own resolver.

Every API handler module exposes its Powertools resolver as `app`; the topology says which routes
exist and which need a signed-in caller (bearer security is added to those).
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ecrm_infra import topology

from ecrm_local import lambdas

TITLE = "eCRM API"
BEARER = "bearerAuth"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


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
            if not route.public:
                operation.setdefault("security", [{BEARER: []}])
            merged.setdefault(path, {})[method] = operation
    if declared:
        missing = sorted(f"{m.upper()} {p}" for m, p in declared)
        raise ValueError(f"{fn.name} does not serve topology route(s): {missing}")


def _merge_components(merged: dict[str, Any], components: dict[str, Any]) -> None:
    for section, entries in components.items():
        target = merged.setdefault(section, {})
        for name, definition in entries.items():
            if name in target and target[name] != definition:
                raise ValueError(f"components.{section}.{name} differs between functions")
            target[name] = definition


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
    return {**base, "paths": paths, "components": components}


def to_json(spec: dict[str, Any]) -> str:
    """The committed form (docs/openapi.json): sorted keys, indent 2, trailing newline."""
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
