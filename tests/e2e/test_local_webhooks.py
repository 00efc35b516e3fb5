"""e2e: on the local stack a webhook really goes over HTTP: an endpoint on loopback (allowed
locally) gets a captured contact's event, signed, and /_local/webhooks.html shows the delivery."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Local
from tests.unit.webhooks.test_signatures import verify
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.e2e


def test_a_captured_contact_is_delivered_to_a_loopback_receiver_and_shown_on_the_page(local: Local):
    tag = f"wh{uuid.uuid4().hex[:8]}"
    with receiver() as hook:
        body = {"url": hook.url, "event_types": ["contact.captured"], "filters": {"tags": [tag]}}
        created = local.call("POST", "/webhooks", body, role="admin")
        assert created.status == 201, created.text
        endpoint = created.json
        assert local.call("POST", "/contacts", {"email": f"{tag}@example.com", "tags": [tag]}).status == 201
        (got,) = local.wait_for(lambda: hook.requests, timeout=30, what="the webhook")
        assert got.json["type"] == "contact.captured" and got.json["data"]["tags"] == [tag]
        verify(endpoint["secret"], got.headers, got.body, now=int(got.headers["webhook-timestamp"]))
        message_id = got.headers["webhook-id"]
        page = local.wait_for(
            lambda: "delivered" in (text := local.call("GET", "/_local/webhooks.html").text) and text,
            timeout=15,
            what="the delivery on the page",
        )
        assert message_id in page and hook.url in page
        listed = local.call("GET", "/_local/webhooks").json
        (mine,) = [e for e in listed if e["endpoint"]["id"] == endpoint["id"]]
        assert mine["deliveries"][0]["status"] == "delivered"
        assert local.call("DELETE", f"/webhooks/{endpoint['id']}", role="admin").status == 204
