"""integration: the role matrix of the cases routes (docs/roles.md), on one moto stack for the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ecrm_infra import topology

from tests.support import Stack, moto_stack

FORM = {"email": "ann@example.com", "subject": "Printer on fire", "description": "It smokes."}
# Which roles may call each protected cases route (docs/roles.md).
MATRIX = {
    ("GET", "/cases"): {"admin", "agent"},
    ("POST", "/cases/agent"): {"admin", "agent"},
    ("GET", "/cases/{case_id}"): {"admin", "agent"},
    ("PATCH", "/cases/{case_id}"): {"admin", "agent"},
    ("GET", "/cases/{case_id}/history"): {"admin", "agent"},
    ("GET", "/cases/{case_id}/comments"): {"admin", "agent"},
    ("POST", "/cases/{case_id}/comments"): {"admin", "agent"},
    ("POST", "/cases/{case_id}/solve"): {"admin", "agent"},
    ("POST", "/cases/{case_id}/reopen"): {"admin", "agent"},
    ("GET", "/cases/metrics"): {"admin", "agent"},
    ("GET", "/cases/policies"): {"admin", "agent"},
    ("PUT", "/cases/policies"): {"admin"},
    ("GET", "/cases/staff"): {"admin"},
    ("PUT", "/cases/staff"): {"admin"},
}


@pytest.fixture(scope="module")
def shared() -> Iterator[Stack]:
    # 42 checks, each on a case of its own: one stack for them all keeps the tier fast.
    with moto_stack() as stack:
        yield stack


def test_matrix_covers_every_protected_cases_route():
    protected = {(r.method, r.path): set(r.roles) for r, _ in topology.routes() if r.path.startswith("/cases")}
    assert {k: v for k, v in protected.items() if v} == MATRIX


def _body_for(method: str, template: str, version: int) -> Any:
    bodies = {
        ("POST", "/cases/agent"): {"requester_email": "b@example.com", "subject": "s", "description": "d"},
        ("PATCH", "/cases/{case_id}"): {"add_tags": ["x"], "expected_version": version},
        ("POST", "/cases/{case_id}/comments"): {"body": "note"},
        ("POST", "/cases/{case_id}/solve"): {},
        ("POST", "/cases/{case_id}/reopen"): {},
    }
    return bodies.get((method, template))


def _config_body(stack: Stack, path: str) -> dict[str, Any]:
    """PUT the configuration as it stands, against its current version (the stack is shared)."""
    current = stack.call("GET", path, roles="admin").json
    if path == "/cases/staff":
        return {"management": ["boss@corp.example"], "expected_version": current["version"]}
    return {"book": current["book"], "expected_version": current["version"]}


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
@pytest.mark.parametrize("role", ["admin", "agent", "marketer"])
def test_role_matrix(shared: Stack, method, template, role):
    cid = shared.call("POST", "/cases", FORM).json["id"]
    if template.endswith("/reopen"):
        assert shared.call("POST", f"/cases/{cid}/solve", {}, roles="agent").status == 200
    version = shared.call("GET", f"/cases/{cid}", roles="agent").json["version"]
    body = _body_for(method, template, version)
    if method == "PUT":
        body = _config_body(shared, template)
    answer = shared.call(method, template.replace("{case_id}", cid), body, roles=role)
    allowed = role in MATRIX[(method, template)]
    assert (answer.status < 400) == allowed, (answer.status, answer.body)
    if not allowed:
        assert answer.status == 403 and answer.json["message"] == "your role may not do this"
        assert set(answer.json["allowed_roles"]) == MATRIX[(method, template)]
