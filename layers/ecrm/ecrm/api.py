"""HTTP edge shared by the API functions: body decoding, error answers, the resolver factory, and
the one check of who may call which route (`EdgeResolver`)."""

from __future__ import annotations

import base64
import binascii
import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ecrm import access, snapstart
from ecrm.errors import Conflict, Forbidden, InvalidInput, InvalidToken, NotFound, Unavailable
from ecrm.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

MAX_BODY_BYTES = 64 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
LIST_FIELDS = frozenset({"tags", "subscribed"})  # repeated form fields (checkboxes) join with commas


@dataclass(frozen=True)
class Body:
    fields: dict[str, Any]
    from_html_form: bool  # a browser form post wants a redirect, not JSON


# OpenAPI: the body of every error answer below (its schema is added to the document by
# `ecrm openapi`, from infra/ecrm_local/openapi.py).
ERROR_CONTENT: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Response[str]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """pydantic/Powertools error dicts -> [{"field": "custom.color", "message": "..."}]."""
    out = []
    for err in errors:
        if err.get("type") == "json_invalid":  # its loc is ("body", <offset>): the body is at fault
            out.append(_json_invalid(err))
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    return out


def _json_invalid(err: dict[str, Any]) -> dict[str, str]:
    loc = [p for p in err.get("loc", ()) if isinstance(p, int)]
    reason = str((err.get("ctx") or {}).get("error") or err.get("msg") or "invalid")
    where = f" at position {loc[0]}" if loc else ""
    return {"field": "body", "message": f"invalid JSON: {reason}{where}"}


def header(headers: dict[str, str] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value or ""
    return ""


def addressed_path(event: APIGatewayProxyEvent) -> str:
    """The path as the client addressed it (with the stage, `/prod/contacts/confirm`), which a page
    posting back to its own route must use; the resource path where the event has none."""
    return event.request_context.path or event.path


def read_body(event: dict[str, Any]) -> Body:
    """Decode a JSON, urlencoded or multipart body into plain fields, or raise InvalidInput."""
    content_type = header(event.get("headers"), "content-type")
    media = content_type.split(";")[0].strip().lower()
    raw = _raw_bytes(event)
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput("body", f"larger than {MAX_BODY_BYTES} bytes", status=413)
    if media == "application/json":
        return Body(_json_fields(raw), from_html_form=False)
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(_utf8(raw), keep_blank_values=True, strict_parsing=False)
        return Body(_form_fields(pairs), from_html_form=True)
    if media == "multipart/form-data":
        return Body(_form_fields(_multipart_pairs(content_type, raw)), from_html_form=True)
    raise InvalidInput(
        "Content-Type",
        "use application/json, application/x-www-form-urlencoded or multipart/form-data",
        status=415,
    )


def _raw_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise InvalidInput("body", "not valid base64") from exc
    return body.encode("utf-8", "surrogateescape")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("body", f"not valid UTF-8 at byte {exc.start}") from exc


def parse_json(text: str | bytes) -> Any:
    """json.loads for a request body: every way it can refuse the text is the client's 400 naming
    the body. Besides JSONDecodeError, json.loads raises RecursionError (nesting deeper than the
    interpreter's stack) and ValueError (an integer past int_max_str_digits)."""
    try:
        return json.loads(_utf8(text) if isinstance(text, bytes) else text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("body", f"invalid JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise InvalidInput("body", "invalid JSON: nested too deeply") from exc
    except ValueError as exc:
        raise InvalidInput("body", "invalid JSON: a number is too long") from exc


def _json_fields(raw: bytes) -> dict[str, Any]:
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise InvalidInput("body", "must be a JSON object")
    return value


def _form_fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Flat form pairs -> the JSON shape: repeated `tags` join, `custom.<key>` nests."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name.startswith("custom."):
            fields.setdefault("custom", {})[name.removeprefix("custom.")] = value
        elif name in LIST_FIELDS and name in fields:
            fields[name] = f"{fields[name]},{value}"
        else:
            fields[name] = value
    return fields


def _multipart_pairs(content_type: str, raw: bytes) -> list[tuple[str, str]]:
    # The e-mail parser (email.policy, its header registry) is imported by the few form posts
    # sent as multipart, not at every API function's cold start.
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.get_boundary():
        raise InvalidInput("Content-Type", "multipart/form-data needs a boundary parameter")
    if not message.is_multipart():
        raise InvalidInput("body", "multipart body without parts")
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise InvalidInput("body", "a multipart part has no field name")
        if part.get_filename():
            raise InvalidInput(name, "file uploads are not accepted")
        payload = part.get_payload(decode=True)
        pairs.append((name, _utf8(payload if isinstance(payload, bytes) else b"")))
    return pairs


def build_resolver(validation: bool = True) -> EdgeResolver:
    """A resolver with every domain error mapped to one HTTP answer, behind the edge's role check.

    `validation=False` is for routes that decode and validate their bodies themselves (the public
    form capture): Powertools' validation layer costs 0.13 s of cold start.
    """
    # Powertools' validation parses the body itself (json_body): with our parser, a body json.loads
    # refuses is the client's 400 instead of an exception out of the handler.
    # A machine client calls a route at `access.MACHINE_PREFIX` + its path (decision 85): the same
    # route code answers, matched with the prefix taken off.
    app = EdgeResolver(
        enable_validation=validation, json_body_deserializer=parse_json, strip_prefixes=[access.MACHINE_PREFIX]
    )

    @app.exception_handler(ValidationError)
    def _invalid_model(exc: ValidationError) -> Response[str]:
        return error(422, "request is not valid", field_errors(exc.errors()))

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[str]:
        return error(422, "request is not valid", field_errors(list(exc.errors())))

    @app.exception_handler(InvalidInput)
    def _invalid_input(exc: InvalidInput) -> Response[str]:
        fields = (exc.field, *exc.also)
        return error(exc.status, "request is not valid", [{"field": f, "message": exc.message} for f in fields])

    @app.exception_handler(InvalidToken)
    def _invalid_token(exc: InvalidToken) -> Response[str]:
        return error(400, "link is not valid", [{"field": "token", "message": exc.reason}])

    @app.exception_handler(NotFound)
    def _not_found(exc: NotFound) -> Response[str]:
        return error(404, str(exc))

    @app.exception_handler(Conflict)
    def _conflict(exc: Conflict) -> Response[str]:
        logger.info("optimistic lock conflict")
        return error(409, str(exc))

    @app.exception_handler(Forbidden)
    def _forbidden(exc: Forbidden) -> Response[str]:
        return error(403, str(exc))

    _answer_unavailable(app)
    _answer_unreadable_body(app)
    _snapshot_ready(app)
    return app


def _snapshot_ready(app: EdgeResolver) -> None:
    """With SnapStart (API functions, context `snapStart`): every route module is in the snapshot,
    and each restored copy makes its own clients and randomness (ecrm.snapstart). Elsewhere: nothing."""
    if snapstart.install():
        snapstart.before_snapshot(app.load_all_routes)


def body_problem(event: dict[str, Any]) -> InvalidInput | None:
    """Why the request's body cannot be read at all (base64, UTF-8, JSON, multipart), or None."""
    if not event.get("body"):
        return None
    try:
        read_body(event)
    except InvalidInput as exc:
        return None if exc.status == 415 else exc
    return None


def _answer_unreadable_body(app: APIGatewayRestResolver) -> None:
    """Powertools' validation decodes the body before any route code runs, and raises ValueError
    (UnicodeDecodeError, binascii.Error, "Missing boundary in multipart/form-data") when it cannot.
    Such an error is the client's 4xx naming the field when our own reader finds the body
    unreadable too; any other ValueError is ours and stays a server error."""

    @app.exception_handler(ValueError)
    def _unreadable(exc: ValueError) -> Response[str]:
        problem = body_problem(app.current_event.raw_event)
        if problem is None:
            raise exc
        return error(problem.status, "request is not valid", [{"field": problem.field, "message": problem.message}])


def _answer_unavailable(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(Unavailable)
    def _unavailable(exc: Unavailable) -> Response[str]:
        logger.warning("dependency unavailable", reason=str(exc))
        answer = error(503, "temporarily unavailable: try again")
        answer.headers["Retry-After"] = "1"
        return answer


# --- who may call which route: one check for every API, before anything reads the request ------


@dataclass
class RouteModule:
    """A module of route code (`<capability>/routes.py`, `*_routes.py`) whose `register(app, *args)`
    adds exactly `routes`: imported and registered when a request first names one of them."""

    name: str
    routes: tuple[access.Route, ...]
    args: tuple[Any, ...]
    loaded: bool = field(default=False)


class EdgeResolver(APIGatewayRestResolver):
    """A resolver that checks the caller against the route's declaration in `ecrm.access` before
    Powertools matches, validates or runs anything: a caller without the right gets 401 or 403
    whatever it sent, and learns nothing of the route's schema. (Powertools runs its request
    validation ahead of every middleware, so the check cannot be one.)

    Route code comes in through `routes_from`: a function imports, at cold start, none of its route
    modules, and on a request only the one that serves it (its models, its OpenAPI declarations).
    The OpenAPI document loads them all, in the order they were declared."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._route_modules: list[RouteModule] = []
        self._module_of: dict[tuple[str, str], RouteModule] = {}

    def routes_from(self, module: str, routes: Sequence[access.Route], *args: Any) -> None:
        """`module.register(self, *args)` adds `routes` (API Gateway `{param}` paths, as declared in
        `ecrm.access`), on the first request for one of them."""
        pending = RouteModule(module, tuple(routes), args)
        for route in pending.routes:
            key = (route.method, route.path)
            if key in self._module_of:
                raise ValueError(f"{route.method} {route.path} is in {self._module_of[key].name} already")
            self._module_of[key] = pending
        self._route_modules.append(pending)

    @property
    def route_modules(self) -> tuple[RouteModule, ...]:
        return tuple(self._route_modules)

    def load_routes(self, method: str, resource: str) -> None:
        """Register the module serving `method` `resource` (API Gateway's), if it is not yet."""
        pending = self._module_of.get((method, resource))
        if pending is not None:
            self._load(pending)

    def load_all_routes(self) -> None:
        for pending in self._route_modules:
            self._load(pending)

    def _load(self, pending: RouteModule) -> None:
        if not pending.loaded:
            importlib.import_module(pending.name).register(self, *pending.args)
            pending.loaded = True

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refused = edge_refusal(event)
        if refused is not None:
            return refused
        resource = access.declared_path(str(event.get("resource") or ""))
        self.load_routes(str(event.get("httpMethod") or ""), resource)
        return super().resolve(event, context)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPI:
        self.load_all_routes()
        return super().get_openapi_schema(*args, **kwargs)


def edge_refusal(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The proxy answer refusing `event`'s caller, or None to let the request through."""
    request_context = event.get("requestContext")
    refused = access.refusal(
        str(event.get("httpMethod") or ""),
        str(event.get("resource") or ""),
        request_context if isinstance(request_context, Mapping) else {},
    )
    if refused is None:
        return None
    logger.info("refused at the edge", status=refused.status, resource=event.get("resource"))
    body: dict[str, Any] = {"message": refused.message}
    if refused.allowed_roles:
        body["allowed_roles"] = list(refused.allowed_roles)
    if refused.allowed_scopes:
        body["allowed_scopes"] = list(refused.allowed_scopes)
    return {
        "statusCode": refused.status,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def current_caller(app: APIGatewayRestResolver) -> access.Caller:
    """The caller of the request being answered (the edge has admitted them): a user's id, e-mail
    and roles, or a machine client's id and scopes, for audit lines and ownership."""
    request_context = app.current_event.raw_event.get("requestContext")
    return access.caller(request_context if isinstance(request_context, Mapping) else {})
