"""integration: the committed OpenAPI document is the one the handlers generate (run `make openapi`)."""

import json
import re
from pathlib import Path

from ecrm_infra import topology
from ecrm_local import openapi

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_handlers():
    generated = openapi.to_json(openapi.build_spec())
    assert COMMITTED.read_text() == generated, "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_topology_route_is_documented_and_only_protected_ones_need_a_bearer():
    spec = openapi.build_spec()
    for route, _ in topology.routes():
        operation = spec["paths"][route.path][route.method.lower()]
        assert (operation.get("security") == [{"bearerAuth": []}]) is (not route.public), route
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_no_dangling_schema_references():
    spec = openapi.build_spec()
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])
