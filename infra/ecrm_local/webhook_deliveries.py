"""The local stack's webhook deliveries page (`/_local/webhooks.html`, JSON at `/_local/webhooks`):
every endpoint with its newest deliveries and each attempt's answer, read through the shipped
adapters from the Webhooks table, like the outbox shows the mail SES accepted."""

from __future__ import annotations

import html
from typing import Any

import boto3
from ecrm.webhooks.adapters.dynamo_webhooks import DynamoDeliveries, DynamoEndpoints
from ecrm.webhooks.names import Resource

from ecrm_local import resources

SHOWN = 50  # newest deliveries per endpoint


def snapshot(session: boto3.session.Session | None = None) -> list[dict[str, Any]]:
    db = (session or boto3.session.Session()).client("dynamodb")
    table = resources.physical_name(Resource.WEBHOOKS_TABLE)
    deliveries = DynamoDeliveries(db, table)
    found = []
    for endpoint in sorted(DynamoEndpoints(db, table).all(), key=lambda e: e.created_at):
        page = deliveries.page(endpoint.id, SHOWN, None)
        found.append(
            {
                "endpoint": endpoint.public().model_dump(mode="json"),
                "deliveries": [d.model_dump(mode="json") for d in page.items],
            }
        )
    return found


def _attempts(delivery: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{a['number']}</td><td>{html.escape(str(a['at']))}</td>"
        f"<td>{html.escape(str(a['status_code'] or a['error'] or ''))}</td><td>{a['latency_ms']} ms</td>"
        f"<td><code>{html.escape(a['response'])}</code></td></tr>"
        for a in delivery["log"]
    )
    head = "<tr><th>#</th><th>at</th><th>answer</th><th>latency</th><th>response</th></tr>"
    return f"<table>{head}{rows}</table>" if rows else "<p>No attempt yet.</p>"


def render_html(endpoints: list[dict[str, Any]]) -> str:
    parts = []
    for entry in endpoints:
        endpoint = entry["endpoint"]
        state = "enabled" if endpoint["enabled"] else f"disabled: {endpoint['disabled_reason'] or 'by an admin'}"
        items = "".join(
            f"<details><summary><code>{html.escape(d['message_id'])}</code> {html.escape(d['type'])} · "
            f"<b>{html.escape(d['status'])}</b> · {d['attempts']} attempt(s)"
            f"{' · next ' + html.escape(str(d['next_attempt_at'])) if d['next_attempt_at'] else ''}</summary>"
            f"{_attempts(d)}<pre>{html.escape(d['payload'])}</pre></details>"
            for d in entry["deliveries"]
        )
        parts.append(
            f"<article><h2><code>{html.escape(endpoint['url'])}</code></h2>"
            f"<p>{html.escape(endpoint['id'])} · {html.escape(', '.join(endpoint['event_types']))} · "
            f"{html.escape(state)}</p>{items or '<p>No deliveries yet.</p>'}</article><hr>"
        )
    body = "".join(parts) or "<p>No webhook endpoints registered (POST /webhooks as an admin).</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local webhook deliveries</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}pre{white-space:pre-wrap;"
        "background:#f4f4f4;padding:.5rem}th,td{text-align:left;padding-right:1rem}</style></head><body>"
        f"<h1>Local webhook deliveries ({len(endpoints)} endpoints, newest first)</h1>{body}</body></html>"
    )
