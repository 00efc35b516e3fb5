"""unit: the EventBridge publisher's batching and retries, role parsing, and the edge's verdicts."""

from datetime import UTC, datetime

import pytest
from ecrm import access
from ecrm.adapters.eventbridge import EventBridgePublisher
from ecrm.errors import PublishFailed
from ecrm.events import ContactErased


class FlakyEvents:
    """Rejects the first entry of each call `failures` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[int] = []

    def put_events(self, Entries):
        self.calls.append(len(Entries))
        results = [{"EventId": str(i)} for i, _ in enumerate(Entries)]
        if self.failures:
            self.failures -= 1
            results[0] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return {"FailedEntryCount": 1, "Entries": results}
        return {"FailedEntryCount": 0, "Entries": results}


def erased(n: int) -> list[ContactErased]:
    return [ContactErased(occurred_at=datetime(2026, 1, 1, tzinfo=UTC), contact_id=f"{i:032x}") for i in range(n)]


def test_batches_of_ten_and_only_failed_entries_are_retried():
    client = FlakyEvents(failures=1)
    EventBridgePublisher(client, "bus", sleep=lambda _: None).publish(erased(23))  # type: ignore[arg-type]
    assert client.calls == [10, 1, 10, 3]


def test_persistent_failure_raises():
    client = FlakyEvents(failures=99)
    with pytest.raises(PublishFailed):
        EventBridgePublisher(client, "bus", attempts=3, sleep=lambda _: None).publish(erased(1))  # type: ignore[arg-type]
    assert client.calls == [1, 1, 1]


@pytest.mark.parametrize(
    ("groups", "roles"),
    [
        ("admin", {"admin"}),
        ("admin,agent", {"admin", "agent"}),
        ("[agent marketer]", {"agent", "marketer"}),
        (["marketer"], {"marketer"}),
        (None, set()),
    ],
)
def test_cognito_groups_claim_shapes(groups, roles):
    assert access.caller_roles({"authorizer": {"claims": {"cognito:groups": groups}}}) == roles


def _signed_in(groups: object, sub: object = "u1") -> dict[str, object]:
    return {"authorizer": {"claims": {"sub": sub, "cognito:groups": groups}}}


def test_the_edge_lets_in_a_role_the_route_names_and_refuses_others_naming_the_allowed():
    assert access.refusal("DELETE", "/contacts/{contact_id}", _signed_in("admin")) is None
    assert access.refusal("DELETE", "/contacts/{contact_id}", _signed_in("marketer,agent")) == access.Refusal(
        403, "your role may not do this", ("admin",)
    )
    refused = access.refusal("GET", "/cases/{case_id}", _signed_in("[marketer]"))
    assert refused is not None and refused.allowed_roles == ("admin", "agent")


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"authorizer": None},
        {"authorizer": "admin"},
        {"authorizer": {"claims": "sub=u1,cognito:groups=admin"}},
        {"authorizer": {"claims": {"cognito:groups": "admin"}}},  # groups, but no user: not from Cognito
        _signed_in("admin", sub=""),
    ],
)
def test_without_claims_naming_a_user_a_protected_route_is_401(context):
    assert access.refusal("PUT", "/loyalty/programme", context) == access.UNAUTHORIZED


def test_public_routes_are_open_and_undeclared_ones_closed():
    assert access.refusal("POST", "/contacts", {}) is None
    assert access.refusal("POST", "/contacts/{contact_id}", _signed_in("admin")) == access.UNKNOWN_ROUTE
    assert access.refusal("GET", "", _signed_in("admin")) == access.UNKNOWN_ROUTE


def test_every_route_is_declared_once():
    groups = [value for name, value in vars(access).items() if name.isupper() and isinstance(value, tuple)]
    declared = [r for group in groups if all(isinstance(r, access.Route) for r in group) and group for r in group]
    assert len(declared) == len(access.ROUTES) == len({(r.method, r.path) for r in declared})


def test_the_topology_puts_on_the_api_exactly_the_routes_declared_here():
    from ecrm_infra import topology

    served = [route for route, _ in topology.routes()]
    assert len(served) == len(access.ROUTES)
    assert all(access.ROUTES[(r.method, r.path)] is r for r in served)  # the same objects: one declaration
