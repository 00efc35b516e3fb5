"""integration: the local stack's item-by-item rollback of moto's TransactWriteItems undoes exactly
what a cancelled transaction wrote, as moto's whole-table copy did, and keeps what succeeded; its
Query reads only the partition it names and answers exactly as moto's own Query does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ecrm_local import moto_dynamodb
from moto import mock_aws

TABLE = "t"


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        moto_dynamodb.install()
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName=TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            yield client
        finally:
            moto_dynamodb.uninstall()


def _put(pk: str, value: str, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "x"}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _items(db: Any) -> dict[str, str]:
    return {i["pk"]["S"]: i["v"]["S"] for i in db.scan(TableName=TABLE)["Items"]}


def _stream_records() -> int:
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE].stream_shard
    assert shard is not None
    return len(shard.items)


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(db: Any):
    db.transact_write_items(TransactItems=[_put("a", "1"), _put("b", "1")])
    records = _stream_records()
    with pytest.raises(ClientError) as caught:
        db.transact_write_items(
            TransactItems=[_put("c", "new"), _put("a", "changed"), _put("b", "2", "attribute_not_exists(pk)")]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(db) == {"a": "1", "b": "1"}
    assert _stream_records() == records


def test_a_transaction_that_succeeds_keeps_every_write(db: Any):
    db.transact_write_items(TransactItems=[_put("a", "1")])
    db.transact_write_items(TransactItems=[_put("a", "2", "attribute_exists(pk)"), _put("b", "1")])
    assert _items(db) == {"a": "2", "b": "1"}


def test_uninstall_puts_motos_own_transaction_back():
    import moto.dynamodb.models as models

    moto_dynamodb.install()
    moto_dynamodb.uninstall()
    assert not getattr(models.DynamoDBBackend.transact_write_items, "item_rollback", False)


INDEXED = "indexed"


def _indexed_table(db: Any) -> None:
    """(pk, sk) with a GSI on (gpk, gsk), five partitions of six items; some items not in the index."""
    db.create_table(
        TableName=INDEXED,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk", "gpk", "gsk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for p in range(5):
        for s in (5, 0, 3, 1, 4, 2):  # written out of order: the answers' order is the key's
            item = {"pk": {"S": f"P{p}"}, "sk": {"S": f"S{s}"}, "n": {"N": str(p * 10 + s)}}
            if s % 3:
                item |= {"gpk": {"S": f"G{s % 2}"}, "gsk": {"S": f"{(p * 7 + s) % 4}"}}
            db.put_item(TableName=INDEXED, Item=item)


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P2"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P9"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": {"S": "P1"}, ":a": {"S": "S1"}, ":b": {"S": "S4"}},
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "FilterExpression": "n > :n",
        "ExpressionAttributeValues": {":p": {"S": "P3"}, ":s": {"S": "S"}, ":n": {"N": "32"}},
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P4"}}, "Limit": 4},
    {"IndexName": "gsi1", "KeyConditionExpression": "gpk = :g", "ExpressionAttributeValues": {":g": {"S": "G1"}}},
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gpk = :g AND gsk >= :k",
        "ExpressionAttributeValues": {":g": {"S": "G0"}, ":k": {"S": "1"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
]


def _every_page(db: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        page = db.query(TableName=INDEXED, **query, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def test_a_query_answers_exactly_as_motos_own_query() -> None:
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        _indexed_table(db)
        motos = [_every_page(db, q) for q in QUERIES]
        moto_dynamodb.install()
        try:
            ours = [_every_page(db, q) for q in QUERIES]
        finally:
            moto_dynamodb.uninstall()

    assert ours == motos
    assert [len(pages) > 1 for pages in ours] == [False] * 4 + [True, False, True]  # the limited ones paged
    assert [i["sk"]["S"] for i in ours[2][0]["Items"]] == ["S4", "S3", "S2", "S1"]


class _Untouchable(dict[Any, Any]):
    """A partition that fails the request if anything lists its items."""

    def values(self) -> Any:
        raise AssertionError("the Query listed a partition it did not name")


def test_a_query_reads_only_the_partition_it_names(db: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    db.transact_write_items(TransactItems=[_put("a", "1"), _put("b", "1")])
    table = dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]
    table.items[DynamoType({"S": "other"})] = _Untouchable()

    answer = db.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})

    assert [i["v"]["S"] for i in answer["Items"]] == ["1"]
    moto_dynamodb.uninstall()
    with pytest.raises(AssertionError, match="did not name"):  # moto's own Query lists every partition
        db.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
