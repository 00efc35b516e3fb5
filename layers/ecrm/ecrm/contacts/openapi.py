"""OpenAPI descriptions of the public contact routes (their bodies are decoded by ecrm.webforms)."""

from __future__ import annotations

from typing import Any

from ecrm.contacts.models import CaptureRequest, CaptureResult, ConfirmRequest, ConfirmResult
from ecrm.webforms import LINK_TOKEN, json_answer, page_answer, rejections, request_body

CAPTURE_OPENAPI: dict[str, Any] = request_body(CaptureRequest)
CONFIRM_OPENAPI: dict[str, Any] = request_body(ConfirmRequest)
CONFIRM_PAGE_OPENAPI: dict[str, Any] = LINK_TOKEN
CAPTURE_RESPONSES: dict[int, Any] = {
    200: json_answer(CaptureResult, "merged into an existing contact (JSON posts)"),
    201: json_answer(CaptureResult, "new contact (JSON posts)"),
    303: {"description": "form posts: redirect to the thank-you page"},
    **rejections(400, 413, 415, 422),
}
CONFIRM_PAGE_RESPONSES: dict[int, Any] = {
    200: page_answer("the page whose button confirms"),
    **rejections(400, 422, pages=True),
}
CONFIRM_RESPONSES: dict[int, Any] = {
    200: page_answer("confirmed (JSON posts: the result; form posts: a page)", ConfirmResult),
    **rejections(400, 413, 415, 422, pages=True),
}
