"""integration: DynamoLedger and DynamoProgrammes on moto: one transaction per write, its conditions,
and how cancellations, throttling and lost answers become the domain's errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ecrm.errors import Conflict, InvalidInput, Unavailable
from ecrm.loyalty.adapters.dynamo_loyalty import DynamoLedger, DynamoProgrammes
from ecrm.loyalty.models import LedgerEntry
from ecrm.loyalty.ports import (
    AlreadyApplied,
    LedgerWrite,
    MemberChange,
    MemberChanged,
    MemberGuard,
    OrderChange,
    OrderChanged,
)
from ecrm.loyalty.programme import StoredProgramme
from ecrm.loyalty.programme_versions import DEFAULT
from ecrm.loyalty.shop import OrderRefunded
from ecrm.loyalty.state import MemberState, OrderRecord
from ecrm.outbox import Outbox

from tests.loyalty_support import MEMBER, DynamoRequests
from tests.support import Stack

AT = datetime(2026, 11, 22, 10, tzinfo=UTC)
TABLE = "LOYALTY_TABLE_NAME"


@pytest.fixture
def ledger(stack: Stack) -> DynamoLedger:
    return DynamoLedger(boto3.client("dynamodb"), stack.env[TABLE], Outbox(stack.env["OUTBOX_TABLE_NAME"]))


def earn(key: str, points: int = 100, member: str = MEMBER, at: datetime = AT, **fields: Any) -> LedgerEntry:
    return LedgerEntry(member_id=member, kind="earn", key=key, points=points, at=at, lots={"2026-11": points}, **fields)


def earn_write(key: str, points: int = 100, guard: MemberGuard | None = None, expected: int = 0) -> LedgerWrite:
    record = OrderRecord(order_id=key, version=expected + 1)
    change = MemberChange(
        balance=points, lots={"2026-11": points}, earned={"2026-11": points}, guard=guard or MemberGuard()
    )
    return LedgerWrite(MEMBER, (earn(key, points),), change, OrderChange(record, expected_version=expected))


def test_one_write_creates_the_member_with_adds_and_keeps_entry_and_order(stack: Stack, ledger: DynamoLedger):
    requests = DynamoRequests(ledger.client)
    ledger.apply(earn_write("o1", 100))
    ledger.apply(earn_write("o2", 30))
    assert requests.calls == {"TransactWriteItems": 2}
    assert ledger.get_member(MEMBER) == MemberState(
        member_id=MEMBER, balance=130, lots={"2026-11": 130}, earned={"2026-11": 130}
    )
    assert ledger.get_entry(MEMBER, "earn#o1") == earn("o1", 100)
    assert ledger.get_order("o1") == OrderRecord(order_id="o1", version=1)
    assert ledger.get_member("b" * 32) is None and ledger.get_order("nope") is None


def test_a_repeated_entry_is_already_applied_and_nothing_at_all_changes(stack: Stack, ledger: DynamoLedger):
    ledger.apply(earn_write("o1"))
    before = stack.table_items(TABLE)
    with pytest.raises(AlreadyApplied):
        ledger.apply(earn_write("o1", expected=1))  # the order's version would pass: the entry stops it
    assert stack.table_items(TABLE) == before


def test_an_order_record_at_another_version_comes_back_with_the_error(stack: Stack, ledger: DynamoLedger):
    parked = OrderRefunded.model_validate({"order_id": "o1", "refund_id": "r1", "amount_minor": 500})
    stored = OrderRecord(order_id="o1", version=1, parked=[parked])
    ledger.apply(LedgerWrite(member_id=None, order=OrderChange(stored, expected_version=0)))
    with pytest.raises(OrderChanged) as raised:
        ledger.apply(earn_write("o1"))
    assert raised.value.current == stored  # from ReturnValuesOnConditionCheckFailure: no extra read
    assert ledger.get_member(MEMBER) is None


def guarded(member: str, guard: MemberGuard) -> LedgerWrite:
    entry = LedgerEntry(member_id=member, kind="redeem", key="k-000001", points=-1, at=AT, lots={"2026-11": -1})
    return LedgerWrite(member, (entry,), MemberChange(balance=-1, lots={"2026-11": -1}, guard=guard))


GUARDS = [
    (MemberGuard(balance_at_least=100), True),
    (MemberGuard(balance_at_least=101), False),
    (MemberGuard(lots_at_least={"2026-11": 100}), True),
    (MemberGuard(lots_at_least={"2026-11": 101}), False),
    (MemberGuard(lots_at_least={"2026-10": 1}), False),  # a missing lot holds 0
    (MemberGuard(lots_equal={"2026-10": 0}), True),
    (MemberGuard(lots_equal={"2026-11": 100}), True),
    (MemberGuard(lots_equal={"2026-11": 99}), False),
    (MemberGuard(bucket_below=("2026-11", 101)), True),
    (MemberGuard(bucket_below=("2026-11", 100)), False),
    (MemberGuard(bucket_below=("2026-12", 1)), True),  # a missing bucket holds 0
    (MemberGuard(tier_version=0), True),  # no tier_version attribute yet counts as 0
    (MemberGuard(tier_version=1), False),
]


def test_member_guards_read_missing_numbers_as_zero(stack: Stack, ledger: DynamoLedger):
    for i, (guard, holds) in enumerate(GUARDS):
        member = f"{i:032x}"  # one member per case: each starts from the same item
        change = MemberChange(balance=100, lots={"2026-11": 100}, earned={"2026-11": 100})
        ledger.apply(LedgerWrite(member, (earn(f"o{i}", 100, member=member),), change))
        before = stack.table_items(TABLE)
        if holds:
            ledger.apply(guarded(member, guard))
            assert ledger.get_member(member).balance == 99, guard  # type: ignore[union-attr]
        else:
            with pytest.raises(MemberChanged):
                ledger.apply(guarded(member, guard))
            assert stack.table_items(TABLE) == before, guard


def test_the_tier_is_set_with_its_version_and_empty_lots_and_old_buckets_removed(ledger: DynamoLedger):
    ledger.apply(
        LedgerWrite(MEMBER, (), MemberChange(lots={"2024-01": 0}, earned={"2024-01": 5, "2026-11": 7}, balance=0))
    )
    ledger.apply(
        LedgerWrite(
            MEMBER,
            (),
            MemberChange(
                tier="silver",
                remove_lots=("2024-01",),
                remove_buckets=("2024-01",),
                guard=MemberGuard(tier_version=0, lots_equal={"2024-01": 0}),
            ),
        )
    )
    member = ledger.get_member(MEMBER)
    assert member == MemberState(member_id=MEMBER, earned={"2026-11": 7}, tier="silver", tier_version=1)


def test_precedence_a_duplicate_entry_wins_over_order_and_member(ledger: DynamoLedger):
    ledger.apply(earn_write("o1"))
    with pytest.raises(AlreadyApplied):
        ledger.apply(earn_write("o1", guard=MemberGuard(balance_at_least=10**6)))  # order and guard fail too


def test_throttled_write_is_unavailable_and_writes_nothing(stack: Stack, ledger: DynamoLedger):
    requests = DynamoRequests(ledger.client)
    requests.throttle = {1}
    with pytest.raises(Unavailable):
        ledger.apply(earn_write("o1"))
    assert stack.table_items(TABLE) == []
    ledger.apply(earn_write("o1"))  # the retry
    assert ledger.get_member(MEMBER).balance == 100  # type: ignore[union-attr]


def test_a_lost_answer_is_unavailable_and_the_retry_finds_the_write(ledger: DynamoLedger):
    requests = DynamoRequests(ledger.client)
    requests.lose = {1}
    with pytest.raises(Unavailable):
        ledger.apply(earn_write("o1"))
    with pytest.raises(AlreadyApplied):
        ledger.apply(earn_write("o1"))
    assert ledger.get_member(MEMBER).balance == 100  # type: ignore[union-attr]


def _cancelled(reasons: list[dict[str, Any]]) -> Exception:
    """What TransactWriteItems raises with these cancellation reasons (moto never reports conflicts)."""
    client = boto3.client("dynamodb")
    table = DynamoLedger(client, "t")
    with Stubber(client) as stub:
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            http_status_code=400,
            response_meta={},
            modeled_fields={"CancellationReasons": reasons},
        )
        try:
            table.apply(earn_write("o1"))
        except Exception as exc:
            return exc
    raise AssertionError("not raised")


CANCELLATIONS: list[tuple[list[str], type[Exception]]] = [
    (["None", "None", "TransactionConflict"], MemberChanged),  # entry, order, member
    (["None", "TransactionConflict", "None"], OrderChanged),
    (["TransactionConflict", "None", "None"], Unavailable),
    (["None", "None", "ThrottlingError"], Unavailable),
    (["ConditionalCheckFailed", "TransactionConflict", "None"], AlreadyApplied),
    (["None", "ConditionalCheckFailed", "ConditionalCheckFailed"], OrderChanged),
]


def test_conflicts_with_concurrent_transactions_mean_re_read_where_the_service_can():
    for codes, expected in CANCELLATIONS:  # botocore's Stubber: no moto needed
        raised = _cancelled([{"Code": code} for code in codes])
        assert type(raised) is expected, (codes, raised)


def test_history_pages_newest_first_with_a_cursor_bound_to_its_member(stack: Stack, ledger: DynamoLedger):
    for i in range(5):
        entry = earn(f"o{i}", 10, at=AT + timedelta(minutes=i))
        ledger.apply(LedgerWrite(MEMBER, (entry,), MemberChange(balance=10, lots={"2026-11": 10})))
    other = earn("x1", 10, member="b" * 32)
    ledger.apply(LedgerWrite("b" * 32, (other,), MemberChange(balance=10, lots={"2026-11": 10})))
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        page, cursor = ledger.history(MEMBER, 2, cursor)
        seen += [e.key for e in page]
        if cursor is None:
            break
    assert seen == ["o4", "o3", "o2", "o1", "o0"]
    _, cursor = ledger.history(MEMBER, 2, None)
    assert cursor is not None
    for bad in (cursor, "not-a-cursor", "e30="):  # another member's cursor, garbage, "{}"
        with pytest.raises(InvalidInput) as raised:
            ledger.history("b" * 32, 2, bad)
        assert raised.value.field == "cursor"


def test_erasure_strips_free_text_keeps_numbers_and_is_repeatable(stack: Stack, ledger: DynamoLedger):
    adjust = LedgerEntry(
        member_id=MEMBER,
        kind="adjust",
        key="adj-00001",
        points=50,
        at=AT,
        lots={"2026-11": 50},
        reason="Ann's complaint",
        actor="staff-1",
    )
    redeem = LedgerEntry(
        member_id=MEMBER,
        kind="redeem",
        key="red-00001",
        points=-20,
        at=AT,
        lots={"2026-11": -20},
        reference="mug for Ann",
    )
    ledger.apply(LedgerWrite(MEMBER, (adjust,), MemberChange(balance=50, lots={"2026-11": 50})))
    ledger.apply(LedgerWrite(MEMBER, (redeem,), MemberChange(balance=-20, lots={"2026-11": -20})))
    ledger.apply(earn_write("o1", 10))
    assert ledger.erase_personal_data(MEMBER, AT) == 2
    assert ledger.erase_personal_data(MEMBER, AT + timedelta(days=1)) == 0
    assert "Ann" not in str(stack.table_items(TABLE))
    kept = ledger.get_entry(MEMBER, "adjust#adj-00001")
    assert kept == adjust.model_copy(update={"reason": None})
    assert ledger.get_member(MEMBER).balance == 40  # type: ignore[union-attr]
    (member_item,) = [i for i in stack.table_items(TABLE) if i["sk"] == "MEMBER"]
    assert member_item["erased_at"].startswith("2026-11-22T10:00")  # the first erasure's time stays
    assert ledger.erase_personal_data("c" * 32, AT) == 0  # nobody: nothing made


def test_programme_versions_are_optimistic(stack: Stack):
    store = DynamoProgrammes(boto3.client("dynamodb"), stack.env[TABLE])
    assert store.current() is None
    first = StoredProgramme(version=1, programme=DEFAULT, saved_at=AT, saved_by="admin-1")
    store.save(first, expected_version=0)
    assert store.current() == first
    with pytest.raises(Conflict):
        store.save(first.model_copy(update={"saved_by": "admin-2"}), expected_version=0)
    second = StoredProgramme(version=2, programme=DEFAULT.model_copy(update={"expiry_months": 36}), saved_at=AT)
    store.save(second, expected_version=1)
    assert store.current() == second
    versions = [i["sk"] for i in stack.table_items(TABLE) if i["pk"] == "PROGRAMME"]
    assert versions == ["CURRENT", "VERSION#000000001", "VERSION#000000002"]
