"""OpenAPI descriptions of the public case routes (their bodies are decoded by ecrm.webforms)."""

from __future__ import annotations

from typing import Any

from ecrm.cases.models import CaseRequest, CsatRequest
from ecrm.webforms import rejections, request_body

CASE_FORM_OPENAPI: dict[str, Any] = request_body(CaseRequest)
CSAT_OPENAPI: dict[str, Any] = request_body(CsatRequest)
CASE_FORM_RESPONSES: dict[int, Any] = {
    201: {"description": "case opened (JSON posts); body holds `id`"},
    303: {"description": "form posts: redirect to the thank-you page"},
    **rejections(400, 413, 415, 422),
}
CSAT_RESPONSES: dict[int, Any] = {
    200: {"description": "rating recorded (JSON: `case_id`, `rating`; form posts: a thank-you page)"},
    409: {"description": "this case has been rated already"},
    **rejections(400, 413, 415, 422),
}
