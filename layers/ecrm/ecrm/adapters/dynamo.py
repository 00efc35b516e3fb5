"""Small DynamoDB helpers shared by the cases adapters: (de)serialization, keys, conditional-failure
codes and opaque cursors that only continue the listing they came from."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ecrm.errors import InvalidInput

_ser = TypeSerializer()
_de = TypeDeserializer()


def item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> a DynamoDB item (None values left out)."""
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _numbers(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: as int or float again, also inside maps and lists,
    so free-form maps (a history line's before/after) keep their JSON types."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def plain(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _numbers(_de.deserialize(v)) for k, v in raw.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def reasons(exc: ClientError) -> list[str]:
    """Per-item codes of a cancelled transaction ("None" for items that passed), else []."""
    return [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons", [])]


def condition_failed(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    return code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons(exc)


def lost_race(exc: ClientError) -> bool:
    """A condition failed, or another transaction was writing the same item at that moment."""
    code = exc.response["Error"]["Code"]
    if code == "TransactionConflictException":
        return True
    return condition_failed(exc) or (code == "TransactionCanceledException" and "TransactionConflict" in reasons(exc))


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str, expect: dict[str, str], prefix: tuple[str, str] | None = None) -> dict[str, Any]:
    """The ExclusiveStartKey in `cursor`, checked to belong to the listing asked for: `expect` gives
    the partition key values it must carry, `prefix` (attribute, start) a sort-key prefix."""
    try:
        last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("cursor", "not a cursor this API returned") from exc
    if not isinstance(last, dict) or any(last.get(name) != {"S": value} for name, value in expect.items()):
        raise InvalidInput("cursor", "not a cursor this API returned")
    if prefix and not str((last.get(prefix[0]) or {}).get("S", "")).startswith(prefix[1]):
        raise InvalidInput("cursor", "not a cursor this API returned")
    if not all(isinstance(v, dict) and set(v) == {"S"} for v in last.values()):
        raise InvalidInput("cursor", "not a cursor this API returned")
    return last
