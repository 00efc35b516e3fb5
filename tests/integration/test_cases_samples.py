"""integration: every cases API sample in events/apigw runs through its handler under moto and gets the
answer it stands for (never a 5xx)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ecrm_infra import topology

from tests.support import LambdaContext, Stack, moto_stack

EVENTS = Path(__file__).resolve().parents[2] / "events" / "apigw"
SAMPLES = sorted([*EVENTS.glob("case_*.json"), *EVENTS.glob("csat_*.json")])
EXPECTED = {
    "case_form_json": 201,
    "case_form_urlencoded": 303,
    "case_form_invalid": 422,
    "case_agent_create": 201,
    "case_get": 404,  # the sample's case does not exist in a fresh stack
    "case_patch": 404,
    "case_solve": 404,
    "case_reopen": 404,
    "case_comment_public": 404,
    "case_comment_internal": 404,
    "case_history": 404,
    "case_comments_get": 404,
    "csat_page": 200,
    "csat_post": 400,  # the sample's token is not signed with this stack's key
    "case_policies_put": 200,
    "case_staff_put": 200,
}


@pytest.fixture(scope="module")
def shared() -> Iterator[Stack]:
    with moto_stack() as stack:
        yield stack


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_gets_the_answer_it_stands_for(shared: Stack, path: Path):
    event = json.loads(path.read_text())
    (fn,) = [f for r, f in topology.routes() if (r.method, r.path) == (event["httpMethod"], event["resource"])]
    handler = importlib.import_module(f"{fn.name}.handler")
    answer = handler.lambda_handler(event, LambdaContext(fn.name))
    assert answer["statusCode"] == EXPECTED.get(path.stem, 200), answer.get("body")
