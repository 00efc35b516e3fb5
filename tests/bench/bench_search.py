"""`make bench ONLY=search`: contact search (GET /contacts?name=|email_prefix=|phone=|company=) on a
table of BENCH_SEARCH_CONTACTS contacts under moto, p50/p99 per kind of search against
GET /contacts/{id} measured in the same run; and what the search index costs a write: items and
write units per TransactWriteItems of a capture and of a PATCH, with and without indexed fields
changing. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3

from tests.aws_intercept import intercepted
from tests.support import Stack, moto_stack

CONTACTS = int(os.environ.get("BENCH_SEARCH_CONTACTS", "10000"))
CALLS = int(os.environ.get("BENCH_SEARCH_CALLS", "40"))
FIRST = ["Anna", "Ännchen", "Bernd", "Chloé", "David", "Émile", "Fatima", "Günther", "Hana", "Ingrid", "José", "Karl"]
LAST = ["Müller", "Schmidt", "Łukasik", "Nguyễn", "O'Brien", "Petrović", "Quinn", "Rossi", "Søndergaard", "Tanaka"]
COMPANY = ["Acme", "Ácme Labs", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"]


def _pct(samples: list[float], p: int) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _person(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    return {
        "email": f"{rng.choice('abcdefghijklmnopqrstuvwxyz')}{i}@example{i % 50}.org",
        "first_name": rng.choice(FIRST),
        "last_name": f"{rng.choice(LAST)}{i % 97 or ''}",
        "phone": f"+49 30 {1000000 + i}",
        "company": f"{rng.choice(COMPANY)} {i % 40}",
    }


def seed(env: dict[str, str], n: int) -> list[str]:
    """`n` contacts with their profile, e-mail reference and search index items, written with
    BatchWriteItem (moto's transactions copy the whole table: seeding by them is quadratic)."""
    from ecrm.adapters import dynamo
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm.contacts.models import Contact
    from ecrm.names import Env

    db = boto3.client("dynamodb")
    contacts = DynamoContacts(db, env[Env.CONTACTS_TABLE], phone_country="49")
    created = SYSTEM_CLOCK.now() - timedelta(days=1)
    puts, ids = [], []
    for i in range(n):
        contact = Contact(id=f"{i:032x}", created_at=created, updated_at=created, tags=[f"t{i % 20}"], **_person(i))
        ids.append(contact.id)
        own = [contacts._profile(contact), contacts._email_ref(contact), contacts._tag(contact, contact.tags[0])]
        items = [*own, *contacts._index_items(contact).values()]
        puts += [{"PutRequest": {"Item": dynamo.item(item)}} for item in items]
    dynamo.batch_write(db, env[Env.CONTACTS_TABLE], puts)
    return ids


def _timed(call: Callable[[int], Any], n: int) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


def latency(stack: Stack, ids: list[str]) -> None:
    stack.auto_relay = False
    rng = random.Random(7)

    def get(i: int) -> None:
        assert stack.admin("GET", f"/contacts/{ids[rng.randrange(len(ids))]}").status == 200

    def searching(kind: str, value: Callable[[int], str]) -> Callable[[int], None]:
        def call(i: int) -> None:
            answer = stack.admin("GET", "/contacts", query={kind: value(i), "limit": "25"})
            assert answer.status == 200, answer.body
            found.append(len(answer.json["items"]))

        return call

    kinds: list[tuple[str, str, Callable[[int], str]]] = [
        ("name, first 2 letters", "name", lambda i: rng.choice(FIRST)[:2]),
        ("name, first name + last prefix", "name", lambda i: f"{rng.choice(FIRST)} {rng.choice(LAST)[:2]}"),
        ("name, last name prefix", "name", lambda i: rng.choice(LAST)[:4]),
        ("email_prefix, 2 characters", "email_prefix", lambda i: f"{rng.choice('abcdefghij')}{rng.randrange(1, 9)}"),
        ("phone, exact", "phone", lambda i: f"030 {1000000 + rng.randrange(len(ids))}"),
        ("company prefix", "company", lambda i: rng.choice(COMPANY)[:3]),
    ]
    base = _timed(get, CALLS)
    b50 = _pct(base, 50)
    print(f"\n== search on {len(ids):,} contacts, {CALLS} calls each, limit 25 (in-process handler under moto)")
    print("   moto answers a gsi1 Query by reading every item of the table: compare with the tag listing")
    print(f"{'request':40} {'p50 ms':>7} {'p99 ms':>7} {'p50 ratio':>9} {'items avg':>9}")
    print(f"{'GET /contacts/{id} (baseline)':40} {b50 * 1000:7.2f} {_pct(base, 99) * 1000:7.2f} {1:9.2f} {1:9.1f}")
    kinds.insert(0, ("tag listing (gsi1 Query, existing)", "tag", lambda i: f"t{rng.randrange(20)}"))
    for label, kind, value in kinds:
        found: list[int] = []
        samples = _timed(searching(kind, value), CALLS)
        p50 = _pct(samples, 50)
        print(
            f"{label:40} {p50 * 1000:7.2f} {_pct(samples, 99) * 1000:7.2f} {p50 / b50:9.2f} "
            f"{sum(found) / len(found):9.1f}"
        )


def _size(value: Any) -> int:
    """DynamoDB's item size rules, roughly: names and strings by UTF-8 length, numbers ~ digits/2+1,
    maps and lists 3 bytes plus their elements."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (int, float, Decimal)):
        return len(str(value)) // 2 + 1
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return 3 + sum(_size(v) for v in value)
    return 1


def _plain_size(item: dict[str, Any]) -> int:
    from ecrm.adapters import dynamo

    return _size(dynamo.plain(item))


@contextmanager
def transactions() -> Iterator[list[list[dict[str, Any]]]]:
    """The TransactItems of every TransactWriteItems made meanwhile."""
    seen: list[list[dict[str, Any]]] = []

    def around(client: Any, operation: str, params: dict[str, Any], send: Any) -> Any:
        if operation == "TransactWriteItems":
            seen.append(params["TransactItems"])
        return send(client, operation, params)

    with intercepted(around):
        yield seen


def _cost(items: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """(items, write units, index items, their write units) of one transaction of the Contacts
    table: 2 WCU per KiB (rounded up) per item written in a transaction; a Delete counts as 1 KiB."""
    total = units = index = index_units = 0
    for entry in items:
        op, body = next(iter(entry.items()))
        key = body.get("Item") or body.get("Key") or {}
        if "Outbox" in body["TableName"] or op == "ConditionCheck":
            continue
        size = _plain_size(body["Item"]) if op == "Put" else 1
        wcu = 2 * max(1, -(-size // 1024))
        total, units = total + 1, units + wcu
        if key.get("sk", {}).get("S", "").startswith("SEARCH#"):
            index, index_units = index + 1, index_units + wcu
    return total, units, index, index_units


def write_costs() -> None:
    print("\n== what the index costs a write (Contacts table items per TransactWriteItems; Outbox row left out)")
    print(f"{'write':58} {'items':>5} {'WCU':>4} {'index items':>11} {'index WCU':>9}")
    with moto_stack() as stack:
        stack.auto_relay = False
        person = _person(1)
        bare = {"email": "bare@example.org"}
        steps: list[tuple[str, str, str, dict[str, Any]]] = [
            ("capture, first post: e-mail only", "POST", "/contacts", bare),
            ("capture, first post: e-mail, names, phone, company", "POST", "/contacts", person),
            ("capture, repeat post adding a tag (no indexed field)", "POST", "/contacts", {**person, "tags": ["vip"]}),
            ("capture, repeat post filling the phone", "POST", "/contacts", {**bare, "phone": "030 1234567"}),
            ("PATCH custom field only (no indexed field)", "PATCH", "{id}", {"custom": {"shoe": "42"}}),
            ("PATCH last name (two name items replaced)", "PATCH", "{id}", {"last_name": "Schmidt"}),
            ("PATCH first name (two name items replaced)", "PATCH", "{id}", {"first_name": "Berta"}),
            ("PATCH company and phone", "PATCH", "{id}", {"company": "Globex", "phone": "+1 212 555 1234"}),
            ("PATCH phone cleared (index item deleted)", "PATCH", "{id}", {"phone": None}),
        ]
        cid = ""
        for label, method, path, body in steps:
            with transactions() as seen:
                answer = stack.admin(method, f"/contacts/{cid}" if path == "{id}" else path, body)
            assert answer.status < 300, answer.body
            if method == "POST" and body is person:
                cid = answer.json["id"]
            for items in seen:
                total, units, index, index_units = _cost(items)
                print(f"{label:58} {total:5} {units:4} {index:11} {index_units:9}")


def main() -> None:
    started = time.perf_counter()
    with moto_stack() as stack:
        ids = seed(stack.env, CONTACTS)
        print(f"\nseeded {len(ids):,} contacts in {time.perf_counter() - started:.1f} s")
        latency(stack, ids)
    write_costs()


if __name__ == "__main__":
    main()
