"""unit: the local stack's usage plans and machine credentials (decision 85): a token bucket per
client at its rate and burst, tokens only for declared clients and their scopes, API keys that
cannot be forged."""

from __future__ import annotations

import pytest
from ecrm_infra.topology.clients import MachineClient, clients_from_context
from ecrm_local import auth_tokens
from ecrm_local.usage_plans import UsagePlans

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_at_once_then_its_rate():
    clock, client = Clock(), MachineClient("pos", ("orders.write",), rate=2, burst=3)
    plans = UsagePlans(clock)
    assert [plans.admit(client) for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one request's worth at 2/s
    assert [plans.admit(client) for _ in range(2)] == [True, False]
    clock.now += 60  # refilled up to the burst, never beyond
    assert sum(plans.admit(client) for _ in range(10)) == 3


def test_each_client_has_its_own_bucket():
    clock = Clock()
    plans = UsagePlans(clock)
    a, b = (MachineClient(name, ("orders.write",), rate=1, burst=1) for name in ("aa", "bb"))
    assert (plans.admit(a), plans.admit(a), plans.admit(b)) == (True, False, True)


def test_tokens_are_minted_only_for_declared_clients_and_their_scopes():
    claims = auth_tokens.verify(KEY, auth_tokens.mint_client(KEY, "shop", ("orders.write",)))
    assert (claims["sub"], claims["client_id"], claims["token_use"], claims["scope"]) == (
        "shop",
        "shop",
        "access",
        "ecrm/orders.write",
    )
    everything = auth_tokens.verify(KEY, auth_tokens.mint_client(KEY, "shop"))
    assert everything["scope"].split() == [
        "ecrm/orders.write",
        "ecrm/loyalty.read",
        "ecrm/loyalty.redeem",
        "ecrm/contacts.read",
    ]
    with pytest.raises(ValueError, match="invalid_scope"):
        auth_tokens.mint_client(KEY, "shop", ("contacts.write",))
    with pytest.raises(ValueError, match="no machine client"):
        auth_tokens.mint_client(KEY, "stranger")


def test_the_authorizer_takes_id_tokens_without_scopes_and_access_tokens_with_one():
    staff = auth_tokens.verify(KEY, auth_tokens.mint(KEY, "admin"))
    shop = auth_tokens.verify(KEY, auth_tokens.mint_client(KEY, "shop", ("orders.write",)))
    assert auth_tokens.accepted_by(staff, ()) and not auth_tokens.accepted_by(staff, ("orders.write",))
    assert auth_tokens.accepted_by(shop, ("orders.write",)) and not auth_tokens.accepted_by(shop, ())
    assert not auth_tokens.accepted_by(shop, ("contacts.read",))


def test_an_api_key_names_its_client_and_cannot_be_forged():
    key = auth_tokens.api_key(KEY, "shop")
    found = auth_tokens.client_of_api_key(KEY, key)
    assert found is not None and found.name == "shop"
    assert auth_tokens.client_of_api_key(KEY, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert auth_tokens.client_of_api_key(b"other" * 8, key) is None
    assert auth_tokens.client_of_api_key(KEY, "") is None
    for hostile in ("shop.\u00e9" * 3, "shop." + "\u2028" * 32, "\udcff", "shop.\x00"):  # any header text
        assert auth_tokens.client_of_api_key(KEY, hostile) is None


def test_context_adds_and_replaces_clients_and_refuses_bad_ones():
    clients = clients_from_context('{"sync": {"scopes": ["contacts.read"], "rate": 5, "burst": 10}}')
    assert [c.name for c in clients] == ["shop", "sync"]
    (shop,) = clients_from_context({"shop": {"scopes": ["orders.write"]}})
    assert shop.scopes == ("orders.write",)
    bad = [
        ('{"x": {"scopes": ["contacts.read"]}}', "must match"),
        ('{"sync": {"scopes": ["root"]}}', "scopes must be some of"),
        ('["sync"]', "JSON object"),
        ('{"sync": {}}', "needs a list of scopes"),
        ('{"sync": {"scopes": ["contacts.read"], "rate": 0}}', "rate must be"),
    ]
    for raw, reason in bad:
        with pytest.raises(ValueError, match=reason):
            clients_from_context(raw)
