"""The API Gateway (REST, Lambda proxy) edge: route matching, the event it sends, the answer it relays."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from ecrm_infra import topology

from ecrm_local.lambdas import ACCOUNT

STAGE = "local"
API_ID = "local"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
BINARY_MEDIA_TYPES = ("multipart/form-data",)  # as declared on our RestApi
# CDK's Cors.DEFAULT_HEADERS, which the stack's preflight allows.
CORS_ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent"


@dataclass(frozen=True)
class Match:
    route: topology.Route
    function: topology.Function
    path_parameters: dict[str, str] | None
    resource: str  # the API's resource path: the route's, or its machine path (`/integrations/...`)

    @property
    def machine(self) -> bool:
        """A method for machine clients: an access token with one of the route's scopes, an API key."""
        return self.resource != self.route.path


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


class RouteTable:
    """The API's methods: each route at its path (roles, or public) and at its machine path (scopes)."""

    def __init__(self, routes: Iterable[tuple[topology.Route, topology.Function]]) -> None:
        methods = [(path, route, fn) for route, fn in routes for path in route.api_paths]
        # As API Gateway: a literal path segment wins over a path parameter (/cases/csat, not /cases/{id}).
        ordered = sorted(methods, key=lambda method: method[0].count("{"))
        self._routes = [(self._pattern(path), path, r, f) for path, r, f in ordered]

    @staticmethod
    def _pattern(template: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")

    def match(self, method: str, path: str) -> Match | None:
        for pattern, resource, route, fn in self._routes:
            found = pattern.match(path)
            if found and route.method == method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                return Match(route, fn, params or None, resource)
        return None

    def methods(self, path: str) -> list[str]:
        return sorted({r.method for p, _, r, _ in self._routes if p.match(path)})


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def encode_body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """(body, isBase64Encoded) as API Gateway passes it: binary media types and non-UTF-8 as base64."""
    if not body:
        return None, False
    media = content_type.split(";")[0].strip().lower()
    if media in BINARY_MEDIA_TYPES:
        return base64.b64encode(body).decode(), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def build_event(request: Request, match: Match, claims: dict[str, str] | None) -> dict[str, Any]:
    multi_headers = _multi(request.headers)
    headers = {name: values[-1] for name, values in multi_headers.items()}
    multi_query = _multi(parse_qsl(request.query, keep_blank_values=True))
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    body, is_base64 = encode_body(request.body, content_type)
    now = time.time()
    event: dict[str, Any] = {
        "resource": match.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": match.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, match.resource).hex[:6],
            "resourcePath": match.resource,
            "httpMethod": request.method,
            # As behind a custom domain with an empty base path: the path the caller used.
            "path": request.path,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainName": headers.get("Host") or headers.get("host") or "localhost",
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": next((v for k, v in headers.items() if k.lower() == "user-agent"), None),
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if claims is not None:  # public routes have no authorizer, so no authorizer block
        event["requestContext"]["authorizer"] = {"claims": claims}
    return event


def response_parts(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, header pairs and body bytes from a Lambda proxy result (both header maps merged)."""
    headers: list[tuple[str, str]] = [
        (name, str(value)) for name, values in (result.get("multiValueHeaders") or {}).items() for value in values
    ]
    listed = {name.lower() for name, _ in headers}
    headers += [(n, str(v)) for n, v in (result.get("headers") or {}).items() if n.lower() not in listed]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result.get("statusCode", 200)), headers, raw


def bearer_token(headers: Iterable[tuple[str, str]]) -> str | None:
    value = next((v for k, v in headers if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def preflight_headers(origin: str, allowed_origins: Iterable[str], methods: list[str]) -> list[tuple[str, str]]:
    if origin.rstrip("/") not in {o.rstrip("/") for o in allowed_origins}:
        return []
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Methods", ",".join([*methods, "OPTIONS"])),
        ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]
