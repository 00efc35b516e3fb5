"""Public web forms, shared by every capability that takes them (contacts, support cases): the body
in three encodings, the answer (303 for a browser form, JSON otherwise), CORS and the redirect check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from ecrm.api import ERROR_CONTENT, Body

FORM_MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


class FormSite(Protocol):
    """Where a site's forms may come from and send people back to."""

    @property
    def origins(self) -> tuple[str, ...]: ...

    @property
    def thank_you_url(self) -> str: ...


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def thank_you_target(redirect: str | None, site: FormSite) -> str:
    """The posted `redirect` only if it points at an allowed origin: never an open redirect."""
    if redirect and origin_of(redirect) in {o.lower() for o in site.origins}:
        return redirect
    return site.thank_you_url


def cors_headers(origin: str, site: FormSite) -> dict[str, str]:
    if origin and origin.rstrip("/").lower() in {o.lower() for o in site.origins}:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def answer(
    body: Body, result: BaseModel, status: int, *, redirect: str | None, origin: str, site: FormSite
) -> Response[str]:
    """A browser's form post is sent on to the thank-you page (303); a JSON client gets the result."""
    cors = cors_headers(origin, site)
    if body.from_html_form:
        return Response(303, content_types.TEXT_PLAIN, "", {"Location": thank_you_target(redirect, site), **cors})
    return Response(status, content_types.APPLICATION_JSON, result.model_dump_json(), cors)


class OnDemand(Mapping[str, Any]):
    """OpenAPI declarations made when the document is (`ecrm openapi`, `ecrm local`), not when a
    deployed function registers its routes: a model's JSON schema is generated on first read.
    Powertools only reads a route's `openapi_extensions` while making the document."""

    def __init__(self, make: Callable[[], dict[str, Any]]) -> None:
        self._make = make

    @cached_property
    def _value(self) -> dict[str, Any]:
        return self._make()

    def __getitem__(self, key: str) -> Any:
        return self._value[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._value)

    def __len__(self) -> int:
        return len(self._value)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI `requestBody` for a form route: the same model in each of the three encodings,
    generated on demand (decision 83). Typed as the dict Powertools' `openapi_extensions` asks for:
    Powertools reads it as a mapping (truthiness, `update`), which is all `OnDemand` is."""

    def make() -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        content = {media: {"schema": schema} for media in FORM_MEDIA_TYPES}
        return {"requestBody": {"required": True, "content": content}}

    return cast("dict[str, Any]", OnDemand(make))


PAGE_CONTENT: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
# The signed link's token, read from the query by the GET routes behind a mailed link.
LINK_TOKEN: dict[str, Any] = {
    "parameters": [
        {
            "name": "token",
            "in": "query",
            "required": True,
            "schema": {"type": "string"},
            "description": "the signed token of the mailed link",
        }
    ]
}


def json_answer(model: type[BaseModel], description: str) -> dict[str, Any]:
    """OpenAPI answer of a JSON body. Without it Powertools declares the handler's return type,
    which for a route answering `Response[str]` is a bare string, whatever the body holds."""
    return {"description": description, "content": {"application/json": {"model": model}}}


def page_answer(description: str, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """OpenAPI answer of an HTML page for a person; with `model`, the JSON a JSON client gets instead."""
    content: dict[str, Any] = dict(PAGE_CONTENT)
    if model is not None:
        content["application/json"] = {"model": model}
    return {"description": description, "content": content}


def rejections(*codes: int, pages: bool = False) -> dict[int, Any]:
    """OpenAPI error answers of a public route: JSON, or (`pages`) an HTML page for a browser."""
    content = {**ERROR_CONTENT, **PAGE_CONTENT} if pages else ERROR_CONTENT
    return {
        code: {"description": "request rejected; `errors[].field` names the field", "content": content}
        for code in codes
    }
