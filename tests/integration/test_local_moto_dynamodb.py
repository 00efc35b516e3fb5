"""integration: the local stack's item-by-item rollback of moto's TransactWriteItems undoes exactly
what a cancelled transaction wrote, as moto's whole-table copy did, and keeps what succeeded."""

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
