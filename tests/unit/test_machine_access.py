"""Machine clients at the edge (decision 85): a client-credentials access token with one of the
route's scopes at `/integrations` + the route's path; staff ID tokens at the route's own path; each
kind refused at the other's path, and a route only at the paths of the callers it names."""

from __future__ import annotations

import pytest
from ecrm import access
from ecrm.names import Scope

ORDERS = "/integrations/orders"
CONTACT = "/contacts/{contact_id}"


def _client(scope: str, client_id: str = "7abc", **extra: object) -> dict[str, object]:
    claims = {"sub": client_id, "client_id": client_id, "token_use": "access", "scope": scope, **extra}
    return {"authorizer": {"claims": claims}}


def _user(groups: str = "admin") -> dict[str, object]:
    return {"authorizer": {"claims": {"sub": "u1", "token_use": "id", "cognito:groups": groups, "email": "a@x.io"}}}


def test_a_client_with_one_of_the_routes_scopes_is_let_in_at_the_machine_path():
    assert access.refusal("POST", ORDERS, _client("ecrm/orders.write")) is None
    assert access.refusal("GET", "/integrations" + CONTACT, _client("ecrm/loyalty.read ecrm/contacts.read")) is None


def test_a_client_without_the_scope_is_403_naming_the_scopes_that_may():
    refused = access.refusal("PATCH", "/integrations" + CONTACT, _client("ecrm/contacts.read"))
    assert refused == access.Refusal(403, "your client's scopes may not do this", allowed_scopes=("contacts.write",))


def test_a_scope_is_matched_whole_with_its_resource_server():
    assert access.refusal("POST", ORDERS, _client("orders.write")) is not None  # no resource server
    assert access.refusal("POST", ORDERS, _client("other/orders.write")) is not None
    assert access.refusal("POST", ORDERS, _client("ecrm/orders.writer")) is not None


@pytest.mark.parametrize(
    "context",
    [
        _user(),  # a staff ID token
        _client("ecrm/orders.write", token_use="id"),
        _client("ecrm/orders.write", sub="u1"),  # a user's access token names the user
        _client("ecrm/orders.write", username="ann"),
        {"authorizer": {"claims": {"sub": "7abc", "token_use": "access", "scope": "ecrm/orders.write"}}},
    ],
)
def test_anything_but_a_client_credentials_token_is_401_at_the_machine_path(context):
    assert access.refusal("POST", ORDERS, context) == access.UNAUTHORIZED


def test_a_client_token_at_a_staff_path_is_401_whatever_its_scopes():
    assert access.refusal("GET", CONTACT, _client("ecrm/contacts.read")) == access.UNAUTHORIZED


def test_a_route_exists_only_at_the_paths_of_the_callers_it_names():
    # role-only (GDPR erasure) has no machine path; scope-only (orders) no staff path; public neither
    assert access.refusal("DELETE", "/integrations" + CONTACT, _client("ecrm/contacts.write")) == access.UNKNOWN_ROUTE
    assert access.refusal("POST", "/orders", _user()) == access.UNKNOWN_ROUTE
    assert access.refusal("POST", "/integrations/contacts", _client("ecrm/contacts.write")) == access.UNKNOWN_ROUTE
    assert access.refusal("GET", "/integrations", _client("ecrm/contacts.read")) == access.UNKNOWN_ROUTE


def test_every_scope_a_route_names_is_one_a_client_can_be_granted():
    named = {scope for route in access.ROUTES.values() for scope in route.scopes}
    assert named == set(Scope.ALL)


def test_a_client_is_named_as_itself_on_events_and_audit_lines():
    caller = access.caller(_client("ecrm/loyalty.redeem ecrm/loyalty.read"))
    assert (caller.client_id, caller.user_id, caller.email, caller.roles) == ("7abc", "", None, frozenset())
    assert caller.scopes == {"ecrm/loyalty.redeem", "ecrm/loyalty.read"}
    assert caller.actor == caller.recorded_as == "client:7abc"
    assert access.as_actor(caller.recorded_as) == "client:7abc"
    user = access.caller(_user())
    assert (user.actor, user.recorded_as, access.as_actor(user.recorded_as)) == ("user:u1", "u1", "user:u1")


def test_declared_path_takes_the_machine_prefix_off_only():
    assert access.declared_path("/integrations/orders/{order_id}/refunds") == "/orders/{order_id}/refunds"
    assert access.declared_path("/integrationsx/orders") == "/integrationsx/orders"
    assert access.declared_path(CONTACT) == CONTACT
