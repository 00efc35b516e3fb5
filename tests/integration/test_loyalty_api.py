"""integration: the loyalty API under moto: roles, idempotent redemptions and adjustments, 4xx that
name the field and write nothing, concurrent redemptions that never overdraw, the programme."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ecrm.clock import SYSTEM_CLOCK
from ecrm.errors import Conflict
from ecrm.loyalty.errors import InsufficientPoints
from ecrm.loyalty.models import RedemptionRequest
from ecrm.loyalty.programme_versions import DEFAULT
from ecrm_infra import topology
from loyalty_accrual import handler as accrual
from loyalty_api import handler as api

from tests.loyalty_support import MEMBER, DynamoRequests, order, placed, sqs_batch
from tests.support import Answer, LambdaContext, Stack

TABLE = "LOYALTY_TABLE_NAME"
MEMBER_PATH = f"/loyalty/members/{MEMBER}"
_keys = itertools.count(1)


def key() -> str:
    return f"key-{next(_keys):06d}"


def seed(*amounts: int, member: str = MEMBER) -> None:
    """Orders (EUR, garden: 1 point per euro below the silver threshold) accrued for the member."""
    bodies = [placed(order(f"SEED-{member[:4]}-{next(_keys)}", amount, contact_id=member)) for amount in amounts]
    result = accrual.lambda_handler(sqs_batch(*bodies), LambdaContext("loyalty_accrual"))
    assert result == {"batchItemFailures": []}


def redeem(stack: Stack, points: Any, idempotency_key: str | None, role: str = "agent", **body: Any) -> Answer:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    return stack.call("POST", f"{MEMBER_PATH}/redemptions", {"points": points, **body}, roles=role, headers=headers)


def balance(stack: Stack) -> int:
    points: int = stack.call("GET", MEMBER_PATH, roles="agent").json["balance"]
    return points


MATRIX = {
    ("GET", "/loyalty/members/{member_id}"): {"admin", "agent", "marketer"},
    ("GET", "/loyalty/members/{member_id}/history"): {"admin", "agent", "marketer"},
    ("POST", "/loyalty/members/{member_id}/redemptions"): {"admin", "agent"},
    ("POST", "/loyalty/members/{member_id}/adjustments"): {"admin"},
    ("GET", "/loyalty/programme"): {"admin", "agent", "marketer"},
    ("PUT", "/loyalty/programme"): {"admin"},
}


def test_matrix_covers_every_loyalty_route():
    declared = {(r.method, r.path): set(r.roles) for r, _ in topology.routes() if r.path.startswith("/loyalty")}
    assert declared == MATRIX


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
def test_role_matrix(stack: Stack, method, template):
    seed(5_000)
    bodies = {
        "redemptions": {"points": 1},
        "adjustments": {"points": 1, "reason": "role matrix"},
        "programme": {"expected_version": 0, "programme": json.loads(DEFAULT.model_dump_json())},
    }
    body = bodies.get(template.rsplit("/", 1)[-1]) if method != "GET" else None
    path = template.replace("{member_id}", MEMBER)
    for role in ("nobody", "marketer", "agent", "admin"):  # the refused first: they must write nothing
        before = stack.table_items(TABLE)
        answer = stack.call(method, path, body, roles=role, headers={"Idempotency-Key": key()})
        allowed = role in MATRIX[(method, template)]
        assert (answer.status < 400) == allowed, (role, answer.status, answer.body)
        if not allowed:
            assert answer.status == 403
            assert stack.table_items(TABLE) == before


def test_a_redemption_is_posted_once_per_idempotency_key(stack: Stack):
    seed(10_000)
    first = redeem(stack, 30, "pos-000001", reference="reward-mug")
    again = redeem(stack, 30, "pos-000001", reference="reward-mug")
    assert (first.status, again.status) == (201, 200)
    assert first.json["replayed"] is False and again.json["replayed"] is True
    assert first.json["entry"] == again.json["entry"]
    assert first.json["entry"]["actor"] == "u1" and first.json["entry"]["points"] == -30
    assert balance(stack) == 70
    assert stack.bus_detail_types().count("PointsRedeemed.v1") >= 1


BAD_REDEMPTIONS: list[tuple[Any, str | None, dict[str, Any], int, str]] = [
    (10, None, {}, 400, "Idempotency-Key"),
    (10, "short", {}, 400, "Idempotency-Key"),
    (10, "has spaces in it", {}, 400, "Idempotency-Key"),
    (1.5, "k-0000001", {}, 422, "points"),
    ("10", "k-0000002", {}, 422, "points"),
    (0, "k-0000003", {}, 422, "points"),
    (-5, "k-0000004", {}, 422, "points"),
    (10, "k-0000005", {"reference": "<script>"}, 422, "reference"),
    (10, "k-0000006", {"surprise": 1}, 422, "surprise"),
]


def test_bad_redemptions_name_the_field_and_write_nothing(stack: Stack):
    seed(10_000)
    before = stack.table_items(TABLE)
    for points, idempotency_key, extra, status, field in BAD_REDEMPTIONS:
        answer = redeem(stack, points, idempotency_key, **extra)
        assert answer.status == status, (points, idempotency_key, extra, answer.body)
        assert field in [e["field"] for e in answer.json["errors"]], answer.body
    assert stack.table_items(TABLE) == before


def test_a_redemption_over_the_balance_is_409_and_its_key_stays_free(stack: Stack):
    seed(10_000)
    before = stack.table_items(TABLE)
    refused = redeem(stack, 101, "pos-000002")
    assert refused.status == 409 and "101 points wanted, 100 available" in refused.json["message"]
    assert stack.table_items(TABLE) == before
    assert redeem(stack, 100, "pos-000002").status == 201  # the same key, now for what is there
    assert balance(stack) == 0


def test_the_same_key_for_another_request_is_422(stack: Stack):
    seed(10_000)
    assert redeem(stack, 10, "pos-000003").status == 201
    other = redeem(stack, 11, "pos-000003")
    assert other.status == 422 and other.json["errors"][0]["field"] == "Idempotency-Key"
    assert balance(stack) == 90


def test_unknown_member_is_404_and_a_bad_member_id_422(stack: Stack):
    assert stack.call("GET", f"/loyalty/members/{'b' * 32}", roles="agent").status == 404
    assert redeem(stack, 1, "pos-000004").status == 404
    bad = stack.call("GET", "/loyalty/members/not-a-contact-id", roles="agent")
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "member_id"


def test_a_throttled_redemption_is_503_writes_nothing_and_its_retry_posts_once(stack: Stack):
    seed(10_000)
    redeem(stack, 1, "pos-warm01")  # composition root built
    requests = DynamoRequests.on(api.service().ledger)
    requests.throttle = {1}
    before = stack.table_items(TABLE)
    throttled = redeem(stack, 10, "pos-000005")
    assert throttled.status == 503 and throttled.headers["Retry-After"] == "1"
    assert stack.table_items(TABLE) == before
    requests.lose = {2}  # the retry is written, but its answer is lost: 503 again
    assert redeem(stack, 10, "pos-000005").status == 503
    third = redeem(stack, 10, "pos-000005")
    assert (third.status, third.json["replayed"]) == (200, True)
    assert balance(stack) == 89


def test_adjustments_are_audited_with_reason_and_author_and_never_overdraw(stack: Stack):
    seed(2_000)
    headers = {"Idempotency-Key": "ticket-4711"}
    credit = stack.call(
        "POST",
        f"{MEMBER_PATH}/adjustments",
        {"points": 50, "reason": "parcel late"},
        roles="admin",
        headers=headers,
        user="admin-7",
    )
    assert credit.status == 201
    entry = credit.json["entry"]
    assert (entry["points"], entry["reason"], entry["actor"]) == (50, "parcel late", "admin-7")
    missing = stack.call(
        "POST", f"{MEMBER_PATH}/adjustments", {"points": 5}, roles="admin", headers={"Idempotency-Key": key()}
    )
    assert missing.status == 422 and missing.json["errors"][0]["field"] == "reason"
    debit = stack.call(
        "POST",
        f"{MEMBER_PATH}/adjustments",
        {"points": -71, "reason": "too much"},
        roles="admin",
        headers={"Idempotency-Key": key()},
    )
    assert debit.status == 409
    assert balance(stack) == 70
    history = stack.call("GET", f"{MEMBER_PATH}/history", roles="marketer").json["items"]
    assert [(e["kind"], e["points"]) for e in history] == [("adjust", 50), ("earn", 20)]


def test_history_pages_through_the_api_and_rejects_foreign_cursors(stack: Stack):
    seed(1_000, 2_000, 3_000)
    first = stack.call("GET", f"{MEMBER_PATH}/history", roles="agent", query={"limit": "2"}).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = stack.call(
        "GET", f"{MEMBER_PATH}/history", roles="agent", query={"limit": "2", "cursor": first["next_cursor"]}
    )
    assert len(rest.json["items"]) == 1
    foreign = stack.call(
        "GET", f"/loyalty/members/{'c' * 32}/history", roles="agent", query={"cursor": first["next_cursor"]}
    )
    assert foreign.status == 400 and foreign.json["errors"][0]["field"] == "cursor"
    zero = stack.call("GET", f"{MEMBER_PATH}/history", roles="agent", query={"limit": "0"})
    assert zero.status == 422 and zero.json["errors"][0]["field"] == "limit"


# --- concurrency: real threads against moto (each request atomic, as in DynamoDB) -------------


def test_concurrent_redemptions_never_overdraw(stack: Stack):
    seed(10_000)  # 100 points
    service = api.service()
    barrier = threading.Barrier(8)
    posted: list[int] = []
    refused: list[Exception] = []

    def spend(i: int) -> None:
        barrier.wait()
        try:
            service.redemption().redeem(MEMBER, RedemptionRequest(points=30), f"race-{i:06d}", actor="till")
            posted.append(30)
        except (InsufficientPoints, Conflict) as exc:
            refused.append(exc)

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(posted) + len(refused) == 8
    assert 1 <= len(posted) <= 3
    assert balance(stack) == 100 - sum(posted) >= 0
    redeemed = [i for i in stack.table_items(TABLE) if i["sk"].startswith("ENTRY#redeem#")]
    assert len(redeemed) == len(posted)


def test_concurrent_redemptions_racing_a_debit_adjustment_and_new_points_stay_consistent(stack: Stack):
    seed(10_000)
    service = api.service()
    barrier = threading.Barrier(6)
    outcome: dict[str, int] = {}

    def act(i: int) -> None:
        barrier.wait()
        try:
            if i == 0:
                seed(4_000)  # +40 by an order, meanwhile
                outcome["order"] = 40
            else:
                service.redemption().redeem(MEMBER, RedemptionRequest(points=35), f"mix-{i:06d}", actor="till")
                outcome[f"r{i}"] = -35
        except (InsufficientPoints, Conflict):
            outcome[f"r{i}"] = 0

    threads = [threading.Thread(target=act, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert balance(stack) == 100 + sum(outcome.values()) >= 0
    (member,) = [i for i in stack.table_items(TABLE) if i["sk"] == "MEMBER"]
    lots = {k: v for k, v in member.items() if k.startswith("lot:")}
    assert member["balance"] == sum(lots.values()) and all(v >= 0 for v in lots.values())


# --- the programme --------------------------------------------------------------------------


def programme_body(**changes: Any) -> dict[str, Any]:
    programme = json.loads(DEFAULT.model_dump_json())
    programme.update(changes)
    return programme


def put_programme(stack: Stack, programme: dict[str, Any], expected: int = 0) -> Answer:
    return stack.call(
        "PUT", "/loyalty/programme", {"expected_version": expected, "programme": programme}, roles="admin"
    )


def new_version(effective_from: datetime, **changes: Any) -> dict[str, Any]:
    base = json.loads(DEFAULT.model_dump_json())["rules"]["versions"][0]
    return {**base, "version": "v-next", "effective_from": effective_from.isoformat(), **changes}


def test_a_fresh_stack_runs_on_the_built_in_programme(stack: Stack):
    answer = stack.call("GET", "/loyalty/programme", roles="marketer")
    assert answer.status == 200
    assert answer.json["version"] == 0 and answer.json["saved_at"] is None
    assert answer.json["programme"] == json.loads(DEFAULT.model_dump_json())


BAD_PROGRAMMES: list[tuple[dict[str, Any], str]] = [
    ({"expiry_months": 12}, "programme.expiry_months"),  # shorter than points were promised
    ({"expiry_months": 0}, "programme.expiry_months"),
    ({"tiers": {"tiers": [{"name": "gold", "threshold": 10}]}}, "programme.tiers"),
    ({"warn_before": "soon"}, "programme.warn_before"),
    ({"rules": {"versions": []}}, "programme.rules.versions"),
    ({"colour": "red"}, "programme.colour"),
]


def test_a_bad_programme_names_the_field_and_changes_nothing(stack: Stack):
    for change, field in BAD_PROGRAMMES:
        answer = put_programme(stack, programme_body(**change))
        assert answer.status == 422, (change, answer.body)
        assert any(e["field"].startswith(field) for e in answer.json["errors"]), (change, answer.json)
    assert stack.table_items(TABLE) == []


def test_published_rule_versions_are_kept_as_they_are_and_new_ones_start_after_the_cache(stack: Stack):
    now = SYSTEM_CLOCK.now()
    rules = json.loads(DEFAULT.model_dump_json())["rules"]
    changed = {"versions": [{**rules["versions"][0], "max_points_per_order": 1}]}
    answer = put_programme(stack, programme_body(rules=changed))
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "programme.rules.versions.0"
    dropped = {"versions": [new_version(now + timedelta(hours=1))]}
    answer = put_programme(stack, programme_body(rules=dropped))
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "programme.rules.versions"
    too_soon = {"versions": [*rules["versions"], new_version(now)]}
    answer = put_programme(stack, programme_body(rules=too_soon))
    assert answer.status == 422 and answer.json["errors"][0]["field"] == "programme.rules.versions.1.effective_from"
    assert stack.table_items(TABLE) == []


def test_a_new_rule_version_prices_orders_placed_after_it_and_entries_record_it(stack: Stack):
    start = (SYSTEM_CLOCK.now() + timedelta(hours=1)).replace(microsecond=0)
    rules = json.loads(DEFAULT.model_dump_json())["rules"]
    doubled = new_version(start, category_percent={"garden": 200})
    saved = put_programme(stack, programme_body(rules={"versions": [*rules["versions"], doubled]}))
    assert saved.status == 200 and saved.json["version"] == 1 and saved.json["saved_by"] == "u1"
    stale = put_programme(stack, programme_body(rules={"versions": [*rules["versions"], doubled]}), expected=0)
    assert stale.status == 409
    assert stack.call("GET", "/loyalty/programme", roles="agent").json["version"] == 1
    SYSTEM_CLOCK.advance(2 * 3600)  # past the start, and past every container's cache
    later = (start + timedelta(minutes=5)).astimezone(UTC).isoformat()
    earlier = (start - timedelta(days=1)).astimezone(UTC).isoformat()
    batch = sqs_batch(placed(order("P-new", 1_000, placed_at=later)), placed(order("P-old", 1_000, placed_at=earlier)))
    assert accrual.lambda_handler(batch, LambdaContext("loyalty_accrual")) == {"batchItemFailures": []}
    history = stack.call("GET", f"{MEMBER_PATH}/history", roles="agent").json["items"]
    priced = {e["order_id"]: (e["points"], e["rule_version"]) for e in history}
    assert priced == {"P-new": (20, "v-next"), "P-old": (10, "default")}
