"""e2e: a machine client over HTTP against the local stack, as API Gateway fronts the machine paths:
the authorizer takes an access token with one of the method's scopes (401 otherwise), the API key
check answers 403, the client's usage plan 429, and the shop's order reaches the bus once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from ecrm_local import auth_tokens

from tests.e2e.conftest import Local

pytestmark = pytest.mark.e2e


def _order(order_id: str) -> dict[str, object]:
    return {
        "order_id": order_id,
        "email": f"e2e-{uuid.uuid4().hex[:8]}@example.org",
        "total": {"amount_minor": 2500, "currency": "EUR"},
        "lines": [{"sku": "SEEDS", "category": "garden", "quantity": 1, "amount_minor": 2500}],
        "placed_at": "2026-12-07T09:00:00Z",
    }


def _client(local: Local, *scopes: str, key: str | None = None) -> dict[str, str]:
    token = auth_tokens.mint_client(local.key, "shop", tuple(scopes))
    return {"Authorization": f"Bearer {token}", "x-api-key": key or auth_tokens.api_key(local.key, "shop")}


def test_the_shop_posts_an_order_once_with_its_token_and_key(local: Local):
    order_id = f"E2E-{uuid.uuid4().hex[:10]}"
    headers = _client(local, "orders.write")
    first = local.call("POST", "/integrations/orders", _order(order_id), headers=headers)
    again = local.call("POST", "/integrations/orders", _order(order_id) | {"email": "x@example.org"}, headers=headers)
    assert first.status == 202 and first.json["event"] == "OrderPlaced.v1"
    assert again.status == 409  # another body under the same id


def test_the_authorizer_and_the_api_key_answer_before_the_function(local: Local):
    body = _order(f"E2E-{uuid.uuid4().hex[:10]}")
    staff = {"Authorization": f"Bearer {local.token('admin')}", "x-api-key": auth_tokens.api_key(local.key, "shop")}
    assert local.call("POST", "/integrations/orders", body, headers=staff).status == 401  # an ID token
    wrong_scope = local.call("POST", "/integrations/orders", body, headers=_client(local, "contacts.read"))
    assert (wrong_scope.status, wrong_scope.json) == (401, {"message": "Unauthorized"})  # the method's scopes
    forged_key = local.call("POST", "/integrations/orders", body, headers=_client(local, "orders.write", key="shop.x"))
    assert (forged_key.status, forged_key.json) == (403, {"message": "Forbidden"})
    # the staff path of a scope-only route does not exist; a client token is not taken at a staff path
    assert local.call("POST", "/orders", body, headers=_client(local, "orders.write")).status == 403
    read = local.call("GET", f"/contacts/{uuid.uuid4().hex}", headers=_client(local, "contacts.read"))
    assert read.status == 401


def test_the_usage_plan_answers_429_past_the_clients_burst(local: Local):
    # shop: a burst of 50 refilled at 25/s; 120 calls from 8 threads come faster than that
    # (the bucket's arithmetic is tested exactly in tests/unit/test_local_usage_plans.py)
    headers = _client(local, "contacts.read")

    def one(_: int) -> int:
        return local.call("GET", f"/integrations/contacts/{uuid.uuid4().hex}", headers=headers).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(120)))
    assert statuses.count(429) > 0 and statuses.count(404) >= 50, statuses
    assert set(statuses) <= {404, 429}
    assert (
        local.call("GET", "/integrations/contacts/x", headers=_client(local, "contacts.read", key="shop.y")).status
        == 403
    )
