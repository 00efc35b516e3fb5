"""integration: the committed OpenAPI document is the one the handlers generate (run `make openapi`)."""

import json
import re
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from ecrm.names import Scope
from ecrm_infra import topology
from ecrm_local import openapi

from tests.support import LambdaContext

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_handlers():
    generated = openapi.to_json(openapi.build_spec())
    assert COMMITTED.read_text() == generated, "docs/openapi.json is stale: run `make openapi` and commit it"


def _documented(route: topology.Route) -> list[tuple[str, bool]]:
    """(path, for machine clients) of each operation the API serves a route at."""
    return [(path, path == route.machine_path) for path in route.api_paths]


def test_every_topology_route_is_documented_and_only_protected_ones_need_a_bearer():
    spec = openapi.build_spec()
    for route, _ in topology.routes():
        for path, machine in _documented(route):
            operation = spec["paths"][path][route.method.lower()]
            if machine:  # client credentials with the route's scopes, and the usage plan's API key
                scopes = [Scope.full(scope) for scope in route.scopes]
                assert operation["security"] == [{"clientCredentials": scopes, "apiKey": []}], route
                assert "429" in operation["responses"]
            else:
                assert (operation.get("security") == [{"bearerAuth": []}]) is (not route.public), route
        if not (route.roles or route.public):
            assert route.method.lower() not in spec["paths"].get(route.path, {}), route
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    flows = spec["components"]["securitySchemes"]["clientCredentials"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == {Scope.full(scope) for scope in Scope.ALL}


def test_no_dangling_schema_references():
    spec = openapi.build_spec()
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_error_answer_is_documented_with_the_body_the_api_sends():
    spec = openapi.build_spec()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # Powertools' shape: never sent
    for path, method, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_protected_operations_document_401_and_the_roles_behind_403():
    spec = openapi.build_spec()
    for route, _ in topology.routes():
        for path, machine in _documented(route):
            responses = spec["paths"][path][route.method.lower()]["responses"]
            if route.public:
                assert "401" not in responses, route
                continue
            assert "401" in responses, route
            allowed = [Scope.full(scope) for scope in route.scopes] if machine else route.roles
            assert responses["403"]["description"].endswith("allowed: " + ", ".join(allowed)), route
        if "{" in route.path:
            assert "404" in responses, route


def test_the_error_schema_reads_what_the_resolver_writes():
    from ecrm import api

    app = api.build_resolver()

    @app.get("/unsubscribe")  # a declared public route: the edge lets it through to validation
    def probe(limit: Annotated[int, Query(ge=1)]) -> dict[str, int]:
        return {"limit": limit}

    event = {
        "httpMethod": "GET",
        "path": "/unsubscribe",
        "resource": "/unsubscribe",
        "queryStringParameters": {"limit": "x"},
    }
    answer = app.resolve({**event, "headers": {}, "requestContext": {"stage": "test"}}, LambdaContext("probe"))
    assert answer["statusCode"] == 422
    body = openapi.Error.model_validate_json(answer["body"])
    assert body.errors and body.errors[0].field == "limit"
    assert set(json.loads(answer["body"])) <= set(openapi.Error.model_fields)
    agent = {"authorizer": {"claims": {"sub": "u1", "cognito:groups": "agent"}}}
    refused = api.edge_refusal({"httpMethod": "DELETE", "resource": "/contacts/{contact_id}", "requestContext": agent})
    assert refused is not None and refused["statusCode"] == 403
    assert openapi.Error.model_validate_json(refused["body"]).allowed_roles == ["admin"]
    assert set(json.loads(refused["body"])) <= set(openapi.Error.model_fields)


def test_the_document_is_valid_openapi():
    from openapi_spec_validator import validate

    validate(openapi.build_spec())  # raises, naming the place, on the first violation


def test_answers_without_a_body_declare_no_content():
    # 204 and redirects send no body: a declared media type would be a promise never kept.
    spec = openapi.build_spec()
    bodyless = [
        (method, path, status)
        for path, method, operation in _operations(spec)
        for status, answer in operation["responses"].items()
        if status in openapi.BODYLESS
    ]
    assert bodyless, "no 204 or 303 documented: this test would check nothing"
    for method, path, status in bodyless:
        assert "content" not in spec["paths"][path][method]["responses"][status], (method, path, status)


def test_every_operation_documents_its_success():
    # A route that declares `responses` gets no success answer from Powertools: it must state one.
    spec = openapi.build_spec()
    silent = [
        (method, path)
        for path, method, operation in _operations(spec)
        if not any(str(status)[0] in "23" for status in operation["responses"])
    ]
    assert not silent


def test_every_input_has_its_error_family():
    spec = openapi.build_spec()
    for route, _ in topology.routes():
        for path, _machine in _documented(route):
            operation = spec["paths"][path][route.method.lower()]
            declared = set(operation["responses"])
            if route.method in openapi.BODY_METHODS:
                assert {"400", "413", "422"} <= declared, route
            if any(p["in"] == "query" for p in operation.get("parameters", ())):
                assert {"400", "422"} <= declared, route


def test_json_answers_are_declared_with_their_model_not_the_handlers_return_type():
    # A route returning Response[str] is documented by Powertools as a JSON string unless it says better.
    spec = openapi.build_spec()
    for path, method, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            assert schema.get("type") != "string", (method, path, status)


def test_durations_are_documented_as_the_iso_text_pydantic_writes():
    from datetime import timedelta

    from pydantic import TypeAdapter

    spec = openapi.build_spec()
    assert '"format": "duration"' not in json.dumps(spec)
    written = TypeAdapter(timedelta).dump_python(timedelta(minutes=3, seconds=58.974825), mode="json")
    assert written == "PT3M58.974825S"
    assert re.match(openapi.DURATION["pattern"], written)
    assert re.match(openapi.DURATION["pattern"], TypeAdapter(timedelta).dump_python(timedelta(days=-1), mode="json"))


def test_signed_link_pages_declare_their_token_and_answer_html():
    spec = openapi.build_spec()
    for path in ("/contacts/confirm", "/cases/csat", "/unsubscribe", "/preferences"):
        page = spec["paths"][path]["get"]
        assert [p["name"] for p in page["parameters"] if p["in"] == "query"] == ["token"], path
        assert "text/html" in page["responses"]["200"]["content"], path
        assert "text/html" in page["responses"]["400"]["content"], path


def test_an_email_field_says_it_takes_an_address():
    # Without it a client (and the fuzzer) reads "any string" and every capture it sends is a 422.
    spec = openapi.build_spec()
    body = spec["paths"]["/contacts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["email"]["format"] == "email"
