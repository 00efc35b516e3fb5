"""unit: the contacts' change feed: positions, windows and cursors, and pages over a store that keeps
changing (no change skipped, none repeated, the newest minute held back until it settles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.clock import FixedClock
from ecrm.contacts import feed
from ecrm.contacts.models import CaptureRequest, ContactPatch
from ecrm.contacts.service import CaptureService, ContactDirectory
from ecrm.errors import InvalidInput
from ecrm.signing import Signer
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fakes import MemoryContacts, RecordingPublisher

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_positions_sort_by_time_then_id_and_shards_spread_ids():
    early, late = feed.position(T0, "ff"), feed.position(T0 + timedelta(microseconds=1), "00")
    assert early < late and feed.at_key(T0) == "2026-12-01T09:00:00.000000Z"
    assert {feed.shard(f"{n:032x}") for n in range(200)} == {f"FEED#{n}" for n in range(feed.SHARDS)}
    since = feed.window(T0, None, T0 + timedelta(minutes=1))
    assert since.after < feed.position(T0, "0") and since.after > feed.position(
        T0 - timedelta(microseconds=1), "f" * 32
    )
    assert feed.window(None, None, T0).before == feed.at_key(T0 - feed.SETTLE)
    assert feed.decode(feed.encode(early)) == early


@pytest.mark.parametrize("cursor", ["", "x", "bm90IGEgcG9zaXRpb24", feed.encode("2026-12-01#ff")])
def test_a_cursor_the_feed_did_not_give_is_refused_naming_it(cursor):
    with pytest.raises(InvalidInput) as refused:
        feed.window(None, cursor or "=", T0)
    assert (refused.value.field, refused.value.status) == ("cursor", 400)


def _world() -> tuple[FixedClock, MemoryContacts, CaptureService, ContactDirectory]:
    clock = FixedClock(T0)
    repo = MemoryContacts(RecordingPublisher())
    return clock, repo, CaptureService(repo, clock, Signer(b"s" * 32), "v1"), ContactDirectory(repo, clock)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(st.sampled_from(["capture", "edit", "erase", "read"]), st.integers(0, 5)), max_size=40),
    limit=st.integers(1, 4),
)
def test_a_reader_following_the_feed_sees_every_contact_as_it_last_changed_once(steps, limit):
    """Writers capture, edit and erase while a reader pages; once everything settles, the reader
    has seen each contact's last change (or its erasure) and no change twice."""
    clock, repo, capture, directory = _world()
    seen: list[tuple[str, str]] = []  # (id, version or "erased")
    cursor: str | None = None
    ids: list[str] = []

    def read() -> bool:
        nonlocal cursor
        page = directory.changes(T0 - timedelta(days=1), limit, cursor)
        seen.extend((c.id, str(c.version)) for c in page.items)
        seen.extend((e.id, "erased") for e in page.erased or [])
        cursor = page.next_cursor or cursor
        return bool(page.caught_up)

    for action, n in steps:
        clock.advance(1)
        if action == "capture":
            ids.append(capture.capture(CaptureRequest(email=f"p{n}@example.com"), ip="203.0.113.1").id)
        elif action == "edit" and ids and repo.get(ids[n % len(ids)]):
            directory.update(ids[n % len(ids)], ContactPatch(first_name=f"N{len(seen)}"))
        elif action == "erase" and ids and repo.get(ids[n % len(ids)]):
            directory.erase(ids[n % len(ids)])
        elif action == "read":
            read()
    clock.advance(feed.SETTLE.total_seconds() + 1)
    while not read():
        pass
    assert len(seen) == len(set(seen))  # no change twice
    last = {i: "erased" if repo.is_erased(i) else str(getattr(repo.get(i), "version", "")) for i in ids}
    assert {i: v for i, v in seen} == last  # the last change of every contact, in order


def test_changes_of_the_last_seconds_wait_until_they_settle():
    clock, _repo, capture, directory = _world()
    capture.capture(CaptureRequest(email="ann@example.com"), ip="203.0.113.1")
    fresh = directory.changes(T0 - timedelta(hours=1), 10, None)
    assert fresh.items == [] and fresh.caught_up
    clock.advance(feed.SETTLE.total_seconds() + 0.001)
    later = directory.changes(None, 10, fresh.next_cursor)
    assert [c.email for c in later.items] == ["ann@example.com"] and later.erased == []
    assert directory.changes(None, 10, later.next_cursor).items == []  # nothing twice
