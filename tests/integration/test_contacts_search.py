"""integration: contact search through GET /contacts under moto: each kind, pages, edits that move
the index, refused parameters, roles, erasure and retried captures (decision 68)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.aws_intercept import intercepted
from tests.integration.test_contacts_api import new_contact
from tests.support import Stack, aws_calls


def found(stack: Stack, **query: str) -> list[str]:
    answer = stack.admin("GET", "/contacts", query=query)
    assert answer.status == 200, answer.body
    return [c["email"] for c in answer.json["items"]]


@contextmanager
def written_keys() -> Iterator[list[tuple[str, str]]]:
    """(sk, Put or Delete) of every item of the Contacts table's TransactWriteItems meanwhile."""
    written: list[tuple[str, str]] = []

    def around(client: Any, operation: str, params: dict[str, Any], send: Any) -> Any:
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                op, body = next(iter(entry.items()))
                if "sk" in (body.get("Item") or body.get("Key") or {}):
                    written.append(((body.get("Item") or body.get("Key"))["sk"]["S"], op))
        return send(client, operation, params)

    with intercepted(around):
        yield written


def search_items(stack: Stack) -> list[dict]:
    return [i for i in stack.table_items() if i["sk"].startswith("SEARCH#")]


@pytest.fixture
def people(stack: Stack) -> dict[str, str]:
    return {
        "anna": new_contact(
            stack, "anna@example.com", first_name="Anna", last_name="Müller", phone="+49 (30) 1234-567", company="Acme"
        ),
        "anders": new_contact(stack, "anders@example.com", first_name="Anna", last_name="Anders", company="Ácme Labs"),
        "bob": new_contact(stack, "bob@other.org", first_name="Bob", last_name="Annan", phone="030 7654321"),
    }


def test_finds_by_each_field_with_queries_only(stack: Stack, people):
    stack.auto_relay = False  # the stream relay's own reads are not the request's
    with aws_calls() as calls:
        assert found(stack, name="ann") == ["anders@example.com", "anna@example.com", "bob@other.org"]
    stack.auto_relay = True
    assert set(calls) == {"Query", "BatchGetItem"}  # an index Query and the profiles: never a Scan
    assert found(stack, name="müller") == ["anna@example.com"]
    assert found(stack, name="MULL") == ["anna@example.com"]
    assert found(stack, name="anna mu") == ["anna@example.com"]
    # first names, and Bob Annan's last name; Anna Anders' two name items answer once
    assert found(stack, name="anna") == ["anders@example.com", "anna@example.com", "bob@other.org"]
    assert found(stack, email_prefix="AN") == ["anders@example.com", "anna@example.com"]
    assert found(stack, email_prefix="bob@oth") == ["bob@other.org"]
    assert found(stack, company="acme") == ["anders@example.com", "anna@example.com"]
    assert found(stack, company="ACME L") == ["anders@example.com"]
    assert found(stack, phone="+49301234567") == ["anna@example.com"]
    assert found(stack, phone="0049 30 1234567") == ["anna@example.com"]
    assert found(stack, phone="+49 30 7654321") == ["bob@other.org"]  # stored without a country code
    assert found(stack, name="zz") == []


def test_pages_skip_and_repeat_nothing(stack: Stack):
    # Each contact has two name items matching "an": pages must still answer each contact once.
    ids = {new_contact(stack, f"p{i}@example.com", first_name=f"Ann{i}", last_name=f"Anders{i}") for i in range(7)}
    new_contact(stack, "other@example.com", first_name="Zoe")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"name": "an", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = stack.admin("GET", "/contacts", query=query).json
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert pages >= 4
    first = stack.admin("GET", "/contacts", query={"name": "an", "limit": "2"}).json["next_cursor"]
    other = stack.admin("GET", "/contacts", query={"name": "ann", "cursor": first})
    assert other.status == 400 and other.json["errors"][0]["field"] == "cursor"  # another query's cursor
    kind = stack.admin("GET", "/contacts", query={"company": "an", "cursor": first})
    assert kind.status == 400 and kind.json["errors"][0]["field"] == "cursor"


def test_edits_move_the_index(stack: Stack, people):
    cid = people["anna"]
    renamed = stack.admin("PATCH", f"/contacts/{cid}", {"last_name": "Schmidt", "company": "Globex", "phone": None})
    assert renamed.status == 200, renamed.body
    assert found(stack, name="müller") == []
    assert found(stack, name="schmi") == ["anna@example.com"]
    assert found(stack, name="anna s") == ["anna@example.com"]
    assert found(stack, company="acme") == ["anders@example.com"]
    assert found(stack, company="glob") == ["anna@example.com"]
    assert found(stack, phone="+49301234567") == []
    own = sorted((i["sk"], i["gsi1pk"]) for i in search_items(stack) if i["contact_id"] == cid)
    assert own == [
        ("SEARCH#COMPANY", "SEARCH#COMPANY#gl"),
        ("SEARCH#EMAIL", "SEARCH#EMAIL#an"),
        ("SEARCH#LAST_NAME", "SEARCH#NAME#sc"),
        ("SEARCH#NAME", "SEARCH#NAME#an"),
    ]


def test_a_repeat_capture_fills_empty_fields_into_the_index(stack: Stack):
    cid = new_contact(stack, "carl@example.com")
    assert found(stack, name="carl") == []
    assert new_contact(stack, "carl@example.com", first_name="Carl", company="Initech") == cid
    assert found(stack, name="carl") == ["carl@example.com"]
    assert found(stack, company="init") == ["carl@example.com"]


def test_retried_and_duplicate_captures_write_no_index_items(stack: Stack):
    post = {"email": "dora@example.com", "first_name": "Dora", "last_name": "Díaz", "company": "Umbrella"}
    new_contact(stack, **post)
    before = search_items(stack)
    stack.auto_relay = False
    with aws_calls() as calls:
        for _ in range(3):
            new_contact(stack, **post)
    stack.auto_relay = True
    assert "TransactWriteItems" not in calls  # nothing changed: nothing written
    assert search_items(stack) == before
    assert len(before) == 4  # e-mail, name, last name, company
    # a PATCH that changes no indexed field writes no index item, in the profile's transaction
    cid = before[0]["contact_id"]
    with written_keys() as written:
        patch = {"custom": {"shoe": "42"}, "first_name": "Dora", "company": "Umbrella"}
        assert stack.admin("PATCH", f"/contacts/{cid}", patch).status == 200
    assert ("PROFILE", "Put") in written and not [k for k in written if k[0].startswith("SEARCH#")]
    assert search_items(stack) == before
    with written_keys() as written:
        assert stack.admin("PATCH", f"/contacts/{cid}", {"company": "Umbrella Corp"}).status == 200
    assert [k for k in written if k[0].startswith("SEARCH#")] == [("SEARCH#COMPANY", "Put")]


@pytest.mark.parametrize(
    ("query", "status", "fields"),
    [
        ({}, 400, ["email", "email_prefix", "name", "phone", "company", "tag", "updated_since"]),
        ({"name": "ann", "phone": "+49301234567"}, 400, ["name", "phone"]),
        ({"tag": "vip", "company": "acme"}, 400, ["company", "tag"]),
        ({"name": "a"}, 422, ["name"]),
        ({"email_prefix": " "}, 422, ["email_prefix"]),
        ({"company": "é"}, 422, ["company"]),
        ({"phone": "call me"}, 422, ["phone"]),
        ({"phone": "+49 30"}, 422, ["phone"]),
        ({"name": "x" * 201}, 422, ["name"]),
        ({"name": "ann", "cursor": "bm9wZQ=="}, 400, ["cursor"]),
    ],
)
def test_bad_missing_or_two_filters_name_the_fields(stack: Stack, query, status, fields):
    answer = stack.admin("GET", "/contacts", query=query)
    assert answer.status == status, answer.body
    assert [e["field"] for e in answer.json["errors"]] == fields


@pytest.mark.parametrize(("role", "status"), [("agent", 200), ("marketer", 200), ("nobody", 403)])
def test_roles_without_contact_read_are_refused(stack: Stack, people, role, status):
    answer = stack.call("GET", "/contacts", roles=role, query={"name": "anna"})
    assert answer.status == status
    if status == 403:
        assert "items" not in answer.json


def test_erasure_removes_the_index_items(stack: Stack, people):
    assert len(search_items(stack)) == 13  # anna 5, anders and bob 4 (no phone, no company)
    assert stack.admin("DELETE", f"/contacts/{people['anna']}").status == 204
    left = search_items(stack)
    assert len(left) == 8 and all(i["contact_id"] != people["anna"] for i in left)
    assert not [i for i in stack.table_items() if i["pk"] == f"CONTACT#{people['anna']}" and i["sk"] != "ERASED"]
    assert found(stack, name="anna") == ["anders@example.com", "bob@other.org"]
    assert found(stack, phone="+49301234567") == []


def test_backfill_indexes_contacts_stored_before_the_index_once(stack: Stack, people):
    import boto3
    from ecrm.contacts.adapters.dynamo_contacts import DynamoContacts
    from ecrm_local.reindex import reindex_contacts

    db, table = boto3.client("dynamodb"), stack.env["CONTACTS_TABLE_NAME"]
    indexed = search_items(stack)
    for item in indexed:  # as before this change: profiles without index items
        db.delete_item(TableName=table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
    assert found(stack, name="anna") == []
    done = reindex_contacts(db, table, "49")
    assert (done.indexed, done.changed_meanwhile) == (3, 0)
    assert search_items(stack) == indexed
    assert found(stack, name="anna") == ["anders@example.com", "anna@example.com", "bob@other.org"]
    assert reindex_contacts(db, table, "49").indexed == 3 and search_items(stack) == indexed  # idempotent
    # a profile read before a PATCH is not indexed over the PATCH's items
    stale = DynamoContacts(db, table, phone_country="49").get(people["anna"])
    assert stack.admin("PATCH", f"/contacts/{people['anna']}", {"last_name": "Schmidt"}).status == 200
    assert stale is not None and DynamoContacts(db, table, phone_country="49").reindex(stale) is False
    assert found(stack, name="mull") == [] and found(stack, name="schm") == ["anna@example.com"]


def test_the_change_feed_answers_each_change_once_in_order_and_tells_erasures(stack: Stack, people):
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.contacts import feed

    def walk(cursor: str | None, limit: int = 2) -> tuple[list[str], list[str], str | None]:
        emails: list[str] = []
        erased: list[str] = []
        while True:
            query = {
                "updated_since": "2026-01-01T00:00:00Z",
                "limit": str(limit),
                **({"cursor": cursor} if cursor else {}),
            }
            answer = stack.admin("GET", "/contacts", query=query)
            assert answer.status == 200, answer.body
            emails += [c["email"] for c in answer.json["items"]]
            erased += [e["id"] for e in answer.json["erased"]]
            cursor = answer.json["next_cursor"]
            if answer.json["caught_up"]:
                return emails, erased, cursor

    assert walk(None)[:2] == ([], [])  # written this moment: not settled yet
    SYSTEM_CLOCK.advance(feed.SETTLE.total_seconds() + 1)
    stack.auto_relay = False
    with aws_calls() as calls:
        emails, erased, cursor = walk(None)
    stack.auto_relay = True
    assert set(calls) == {"Query"}  # one per shard of the feed, per page: never a Scan
    assert emails == ["anna@example.com", "anders@example.com", "bob@other.org"] and erased == []
    assert stack.admin("PATCH", f"/contacts/{people['anna']}", {"last_name": "Schmidt"}).status == 200
    assert stack.admin("DELETE", f"/contacts/{people['bob']}").status == 204
    assert walk(cursor)[:2] == ([], [])  # not settled yet: the cursor waits
    SYSTEM_CLOCK.advance(feed.SETTLE.total_seconds() + 1)
    assert walk(cursor, limit=1)[:2] == (["anna@example.com"], [people["bob"]])  # only what changed since
    bad = stack.admin("GET", "/contacts", query={"updated_since": "yesterday"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "updated_since"
    two = stack.admin("GET", "/contacts", query={"updated_since": "2026-01-01T00:00:00Z", "tag": "vip"})
    assert two.status == 400 and {two.json["errors"][0]["field"], *two.json["errors"][0].get("also", [])} >= {"tag"}
    forged = stack.admin("GET", "/contacts", query={"updated_since": "2026-01-01T00:00:00Z", "cursor": "Zm9v"})
    assert forged.status == 400 and forged.json["errors"][0]["field"] == "cursor"


def test_backfill_puts_contacts_stored_before_the_feed_into_it(stack: Stack, people):
    import boto3
    from ecrm.clock import SYSTEM_CLOCK
    from ecrm.contacts import feed
    from ecrm_local.reindex import reindex_contacts

    db, table = boto3.client("dynamodb"), stack.env["CONTACTS_TABLE_NAME"]
    for contact_id in people.values():  # as before the feed: profiles off gsi1
        key = {"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": "PROFILE"}}
        db.update_item(TableName=table, Key=key, UpdateExpression="REMOVE gsi1pk, gsi1sk")
    SYSTEM_CLOCK.advance(feed.SETTLE.total_seconds() + 1)
    query = {"updated_since": "2026-01-01T00:00:00Z"}
    assert stack.admin("GET", "/contacts", query=query).json["items"] == []
    assert reindex_contacts(db, table, "49").indexed == 3
    assert len(stack.admin("GET", "/contacts", query=query).json["items"]) == 3
