"""Web-form specifics of the public routes: redirect targets, CORS answers and the OpenAPI body."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ecrm.contacts.models import CaptureRequest, ConfirmRequest
from ecrm.settings import CaptureSettings


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def thank_you_target(redirect: str | None, settings: CaptureSettings) -> str:
    """The posted `redirect` only if it points at an allowed origin: never an open redirect."""
    if redirect and origin_of(redirect) in {o.lower() for o in settings.origins}:
        return redirect
    return settings.thank_you_url


def cors_headers(origin: str, settings: CaptureSettings) -> dict[str, str]:
    if origin and origin.rstrip("/").lower() in {o.lower() for o in settings.origins}:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def _body_schema(model: type[CaptureRequest] | type[ConfirmRequest]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {
        "required": True,
        "content": {
            media: {"schema": schema}
            for media in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
        },
    }


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "request rejected; `errors[].field` names the field"} for c in codes}


CAPTURE_OPENAPI: dict[str, Any] = {
    "requestBody": _body_schema(CaptureRequest),
}
CONFIRM_OPENAPI: dict[str, Any] = {"requestBody": _body_schema(ConfirmRequest)}
CAPTURE_RESPONSES: dict[int, Any] = {
    200: {"description": "merged into an existing contact (JSON posts); body holds `id`"},
    201: {"description": "new contact (JSON posts); body holds `id`"},
    303: {"description": "form posts: redirect to the thank-you page"},
    **{int(k): v for k, v in _errors(400, 413, 415, 422).items()},
}
