"""OpenAPI descriptions of the public contact routes (their bodies are decoded by ecrm.webforms)."""

from __future__ import annotations

from typing import Any

from ecrm.contacts.models import CaptureRequest, ConfirmRequest
from ecrm.webforms import rejections, request_body

CAPTURE_OPENAPI: dict[str, Any] = request_body(CaptureRequest)
CONFIRM_OPENAPI: dict[str, Any] = request_body(ConfirmRequest)
CAPTURE_RESPONSES: dict[int, Any] = {
    200: {"description": "merged into an existing contact (JSON posts); body holds `id`"},
    201: {"description": "new contact (JSON posts); body holds `id`"},
    303: {"description": "form posts: redirect to the thank-you page"},
    **rejections(400, 413, 415, 422),
}
