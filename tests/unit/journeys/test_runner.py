"""The runner on in-memory fakes: entries, waits and their timers, goals, A/B, pause, resume, stop,
migration, erasure, engagement and webhooks, each change written once however often it is delivered."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from ecrm.journeys import catalogue, runner
from ecrm.journeys.events import JourneyStepReached
from ecrm.journeys.models import Definition
from ecrm.journeys.runner import Delivery, pick_arm
from ecrm.names import DetailType, Source
from ecrm.timers import ARMING_MARGIN, timer_name

from tests.unit.journeys.fakes import JOURNEY, T0, TEMPLATE, Crash, World, contact_id

CAPTURED, ORDER, CASE, TIER = DetailType.CONTACT_CAPTURED, "OrderPlaced.v1", "CaseCreated.v1", "TierChanged.v1"
DAY = 24 * 60


def mail(step: str, **more: Any) -> dict[str, Any]:
    return {"id": step, "type": "send_mail", "template_id": TEMPLATE, "topic": "news", **more}


def wait(step: str, minutes: int = DAY, **more: Any) -> dict[str, Any]:
    return {"id": step, "type": "wait", "duration": {"minutes": minutes}, **more}


def journey(steps: list[dict[str, Any]], **top: Any) -> Definition:
    return Definition.model_validate({"name": "j", "entry": {"event": CAPTURED}, "steps": steps} | top)


def world(definition: Definition, contacts: int = 1, **kw: Any) -> tuple[World, list[str]]:
    w = World(**kw)
    ids = [w.book.add(n) for n in range(contacts)]
    w.journeys.publish(definition)
    return w, ids


def enter(w: World, cid: str, event_id: str = "e1", **detail: Any) -> str:
    return w.event(CAPTURED, {"contact_id": cid, **detail}, event_id)


def order(w: World, n: int, event_id: str = "o1") -> str:
    return w.event(ORDER, {"email": f"c{n}@example.com", "order_id": event_id}, event_id)


def case(w: World, cid: str, event_id: str = "k1") -> str:
    return w.event(CASE, {"requester_id": cid, "case_id": event_id}, event_id)


def opened(w: World, cid: str, step: str, entry: int = 1, event_id: str = "open1") -> str:
    tags = {
        catalogue.TAG_JOURNEY: [JOURNEY],
        catalogue.TAG_VERSION: ["1"],
        catalogue.TAG_ENTRY: [str(entry)],
        catalogue.TAG_STEP: [step],
        catalogue.TAG_CONTACT: [cid],
    }
    return w.event(catalogue.OPENED, {"mail": {"tags": tags}}, event_id)


SERIES = journey([mail("hello"), wait("pause"), mail("again")], goals=[{"event": ORDER}])


# -- entry -------------------------------------------------------------------------------------------
def test_the_entry_filter_decides_who_enters() -> None:
    w, (c,) = world(journey([mail("hello")], entry={"event": CAPTURED, "filter": {"form_id": ["newsletter", "promo"]}}))
    assert enter(w, c, "e1", form_id="contact") == "Ignored"
    assert w.progress(c) is None
    assert enter(w, c, "e2", form_id="promo") == "Entered"
    assert w.mail.steps_of(c) == ["hello"]


def test_a_contact_in_the_journey_does_not_enter_it_again() -> None:
    w, (c,) = world(SERIES)
    enter(w, c, "e1")
    assert enter(w, c, "e2") == "Ignored"
    assert w.progress(c).entry == 1  # type: ignore[union-attr]
    assert w.mail.steps_of(c) == ["hello"]


@pytest.mark.parametrize(("once", "again"), [(False, ["hello", "hello"]), (True, ["hello"])])
def test_once_lets_a_contact_in_once_ever(once: bool, again: list[str]) -> None:
    w, (c,) = world(journey([mail("hello")], entry={"event": CAPTURED, "once": once}))
    enter(w, c, "e1")
    assert w.progress(c).status == "done"  # type: ignore[union-attr]
    enter(w, c, "e2")
    assert w.mail.steps_of(c) == again


def test_reentry_waits_for_its_days() -> None:
    w, (c,) = world(journey([mail("hello")], entry={"event": CAPTURED, "reenter_after_days": 7}))
    enter(w, c, "e1")
    w.advance(6 * DAY)
    assert enter(w, c, "e2") == "Ignored"
    w.advance(DAY)
    assert enter(w, c, "e3") == "Entered"
    assert w.progress(c).entry == 2  # type: ignore[union-attr]
    assert w.mail.steps_of(c) == ["hello", "hello"]


def test_a_duplicate_entry_event_changes_nothing() -> None:
    w, (c,) = world(journey([mail("hello")]))
    assert enter(w, c, "e1") == "Entered"
    moves, counts = w.store.moves, w.counts()
    assert enter(w, c, "e1") == "Ignored"
    assert (w.store.moves, w.counts()) == (moves, counts)
    assert w.mail.steps_of(c) == ["hello"]


def test_no_one_enters_a_journey_that_is_not_live() -> None:
    w, (c,) = world(SERIES)
    w.journeys.set_status(JOURNEY, "paused")
    assert enter(w, c) == "Ignored"
    assert w.progress(c) is None


def test_an_event_from_another_source_is_ignored() -> None:
    w, (c,) = world(SERIES)
    assert w.runner.on_event(Delivery(CAPTURED, "somebody.else", {"contact_id": c}, "e1")) == "Ignored"
    assert w.progress(c) is None


# -- waits and timers ----------------------------------------------------------------------------------
def test_a_wait_sets_one_timer_named_after_the_progress_seq() -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    progress = w.progress(c)
    assert progress is not None and progress.status == "waiting" and progress.step == "pause"
    (timer,) = w.timers.timers.values()
    assert timer.name == timer_name("journey", JOURNEY, c, str(progress.seq))
    assert timer.payload == {"action": "timer", "journey_id": JOURNEY, "contact_id": c, "seq": progress.seq}
    assert timer.at == T0 + timedelta(days=1)
    assert len(w.timers.sets) == 1


def test_a_short_wait_is_armed_late_then_set_to_its_time() -> None:
    w, (c,) = world(journey([wait("blink", minutes=1), mail("hello")]))
    enter(w, c)
    assert [t.at for t in w.timers.sets] == [T0 + ARMING_MARGIN, T0 + timedelta(minutes=1)]
    assert len({t.name for t in w.timers.sets}) == 1
    w.advance(1)
    assert w.mail.steps_of(c) == ["hello"]


def test_a_timer_fired_twice_or_late_does_nothing_the_second_time() -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    (timer,) = w.timers.timers.values()
    w.clock.at = timer.at
    assert w.fire(timer) == "Woken"
    moves = w.store.moves
    assert w.fire(timer) == "Stale"
    assert w.runner.on_timer(JOURNEY, c, 0) == "Stale"
    assert w.runner.on_timer(JOURNEY, contact_id(99), 1) == "Stale"
    assert w.store.moves == moves
    assert w.mail.steps_of(c) == ["hello", "again"]


WAIT_FOR_CASE = journey(
    [
        {
            "id": "listen",
            "type": "wait_for_event",
            "event": {"event": CASE},
            "timeout": {"days": 2},
            "on_timeout": "late",
        },
        mail("early", next="done"),
        mail("late"),
        {"id": "done", "type": "exit"},
    ]
)


def test_wait_for_event_ends_early_by_its_event() -> None:
    w, (c,) = world(WAIT_FOR_CASE)
    enter(w, c)
    assert case(w, c) == "Woken"
    assert w.mail.steps_of(c) == ["early"]
    assert w.advance(3 * DAY) == ["Stale"]  # its timer still fires, and finds the progress moved on
    assert w.mail.steps_of(c) == ["early"]
    assert w.progress(c).outcome == "completed"  # type: ignore[union-attr]


def test_wait_for_event_ends_by_its_timeout() -> None:
    w, (c,) = world(WAIT_FOR_CASE)
    enter(w, c)
    w.advance(2 * DAY)
    assert w.mail.steps_of(c) == ["late"]
    assert case(w, c) == "Ignored"


def test_wait_for_event_hears_only_its_filter() -> None:
    d = journey(
        [
            {
                "id": "listen",
                "type": "wait_for_event",
                "event": {"event": TIER, "filter": {"tier": "gold"}},
                "timeout": {"days": 2},
                "on_timeout": "done",
            },
            mail("gold"),
            {"id": "done", "type": "exit"},
        ]
    )
    w, (c,) = world(d)
    enter(w, c)
    assert w.event(TIER, {"member_id": c, "tier": "silver"}, "t1") == "Ignored"
    assert w.event(TIER, {"member_id": c, "tier": "gold"}, "t2") == "Woken"
    assert w.mail.steps_of(c) == ["gold"]


def test_a_duplicate_of_the_event_that_ended_a_wait_does_not_end_the_next_one() -> None:
    listen = {"type": "wait_for_event", "event": {"event": CASE}, "timeout": {"days": 2}, "on_timeout": "done"}
    w, (c,) = world(
        journey([{"id": "one", **listen}, {"id": "two", **listen}, mail("both"), {"id": "done", "type": "exit"}])
    )
    enter(w, c)
    assert case(w, c, "k1") == "Woken"
    assert case(w, c, "k1") == "Ignored"
    assert w.progress(c).step == "two"  # type: ignore[union-attr]
    assert case(w, c, "k2") == "Woken"
    assert w.mail.steps_of(c) == ["both"]


def test_wait_until_uses_the_contacts_zone_else_the_journeys() -> None:
    d = journey(
        [{"id": "monday", "type": "wait_until", "weekdays": ["tue"], "at": "09:00"}, mail("hello")],
        time_zone="Europe/Paris",
    )
    w, (paris, tokyo) = world(d, contacts=2)
    contact = w.book.contacts[tokyo]
    w.book.contacts[tokyo] = contact.model_copy(update={"custom": {"time_zone": "Asia/Tokyo"}})
    enter(w, paris, "e1")
    enter(w, tokyo, "e2")
    assert w.progress(paris).waiting.until == T0.replace(day=3, hour=8)  # type: ignore[union-attr]
    assert w.progress(tokyo).waiting.until == T0.replace(day=3, hour=0)  # type: ignore[union-attr]


# -- goals, branches, A/B -----------------------------------------------------------------------------
def test_a_goal_ends_the_journey_early() -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    assert order(w, 0) == "Converted"
    assert order(w, 0) == "Ignored"
    w.advance(2 * DAY)
    assert w.mail.steps_of(c) == ["hello"]
    progress = w.progress(c)
    assert progress is not None and (progress.status, progress.outcome) == ("exited", "goal")
    assert w.counts()["goal"] == 1
    assert w.counts()["s|pause|goal"] == 1


def test_a_duplicate_goal_after_a_new_entry_does_not_end_it() -> None:
    w, (c,) = world(SERIES)
    enter(w, c, "e1")
    order(w, 0, "o1")
    enter(w, c, "e2")
    assert order(w, 0, "o1") == "Ignored"
    w.advance(DAY)
    assert w.mail.steps_of(c) == ["hello", "hello", "again"]


def test_a_goal_for_someone_not_in_the_journey_does_nothing() -> None:
    w, _ = world(SERIES)
    assert order(w, 0) == "Ignored"
    assert w.store.moves == 0


AB = journey(
    [
        {"id": "vip", "type": "branch", "cases": [{"if": {"tag": "vip"}, "next": "ab"}], "else": "ab"},
        {
            "id": "ab",
            "type": "split",
            "arms": [{"name": "A", "weight": 1, "next": "a"}, {"name": "B", "weight": 3, "next": "b"}],
        },
        mail("a", next="pause"),
        mail("b"),
        wait("pause"),
    ],
    goals=[{"event": ORDER}],
)


def test_conversions_are_counted_per_branch_choice_and_per_arm() -> None:
    w, ids = world(AB, contacts=40)
    for n, c in enumerate(ids):
        if n % 4 == 0:
            w.book.edit(c, "test", add_tags=["vip"])
        enter(w, c, f"e{n}")
    converted = ids[::3]
    for n, c in enumerate(ids):
        if c in converted:
            order(w, n, f"o{n}")
    arms = {c: pick_arm(JOURNEY, "ab", c, [("A", 1), ("B", 3)]) for c in ids}
    counts = w.counts()
    vip = {c for n, c in enumerate(ids) if n % 4 == 0}
    assert counts["c|vip|case-1|taken"] == len(vip)
    assert counts["c|vip|else|taken"] == len(ids) - len(vip)
    assert counts.get("c|vip|case-1|conv", 0) == len([c for c in converted if c in vip])
    assert counts.get("c|vip|else|conv", 0) == len([c for c in converted if c not in vip])
    for arm in "AB":
        assert counts.get(f"c|ab|{arm}|taken", 0) == Counter(arms.values())[arm]
        assert counts.get(f"c|ab|{arm}|conv", 0) == len([c for c in converted if arms[c] == arm])
        assert counts.get(f"s|{arm.lower()}|sent", 0) == Counter(arms.values())[arm]
    assert counts["goal"] == len(converted)


def test_an_arm_is_fixed_per_contact_and_follows_the_weights() -> None:
    arms = [("A", 1), ("B", 3)]
    picks = [pick_arm(JOURNEY, "ab", contact_id(n), arms) for n in range(4000)]
    assert picks == [pick_arm(JOURNEY, "ab", contact_id(n), arms) for n in range(4000)]
    assert 0.70 < picks.count("B") / len(picks) < 0.80
    other_step = [pick_arm(JOURNEY, "cd", contact_id(n), arms) for n in range(4000)]
    assert other_step != picks  # each step draws on its own


def test_a_branch_reads_opened_once_per_mail() -> None:
    d = journey(
        [
            mail("hello"),
            wait("pause"),
            {"id": "read", "type": "branch", "cases": [{"if": {"opened": "hello"}, "next": "thanks"}], "else": "nudge"},
            mail("nudge", next="end"),
            mail("thanks"),
            {"id": "end", "type": "exit"},
        ]
    )
    w, (reader, other) = world(d, contacts=2)
    enter(w, reader, "e1")
    enter(w, other, "e2")
    assert opened(w, reader, "hello", event_id="x1") == "Noted"
    assert opened(w, reader, "hello", event_id="x2") == "Ignored"  # a second open of one mail
    assert opened(w, other, "hello", entry=2, event_id="x3") == "Ignored"  # another entry's mail
    assert w.counts()["s|hello|opened"] == 1
    w.advance(DAY)
    assert w.mail.steps_of(reader) == ["hello", "thanks"]
    assert w.mail.steps_of(other) == ["hello", "nudge"]


def test_a_branch_reads_a_field_and_set_field_writes_one() -> None:
    d = journey(
        [
            {"id": "plan", "type": "set_field", "field": "contact.custom.plan", "value": "gold"},
            {
                "id": "ask",
                "type": "branch",
                "cases": [{"if": {"field": "contact.custom.plan", "value": "GOLD"}, "next": "gold"}],
            },
            mail("other", next="end"),
            mail("gold"),
            {"id": "end", "type": "exit"},
        ]
    )
    w, (c,) = world(d)
    enter(w, c)
    assert w.book.contacts[c].custom == {"plan": "gold"}
    assert w.mail.steps_of(c) == ["gold"]


def test_a_tag_step_adds_and_removes_tags() -> None:
    w, (c,) = world(journey([{"id": "t", "type": "tag", "add": ["warm"], "remove": ["cold"]}]))
    w.book.edit(c, "test", add_tags=["cold", "vip"])
    enter(w, c)
    assert w.book.tags(c) == {"warm", "vip"}
    assert w.book.edits[-1] == (c, f"journey:{JOURNEY}")


def test_an_unconsented_contact_is_skipped_and_counted() -> None:
    w, (c,) = world(journey([mail("hello")]))
    w.mail.unconsented.add(c)
    enter(w, c)
    assert w.mail.steps_of(c) == []
    assert w.counts()["s|hello|skipped"] == 1
    assert w.progress(c).status == "done"  # type: ignore[union-attr]


@pytest.mark.parametrize("after", [False, True], ids=["before the write", "after the write"])
def test_a_webhook_step_puts_its_event_on_the_bus_once(after: bool) -> None:
    d = journey([{"id": "hook", "type": "webhook", "label": "Tell the CRM"}, mail("hello")])
    w, (c,) = world(d, crash_at=[2], crash_after=after)  # move 2 is the webhook step's
    with pytest.raises(Crash):
        enter(w, c)
    assert enter(w, c) == "Resumed"  # the same message again: the run goes on, no second entry
    assert enter(w, c) == "Ignored"
    (event,) = w.store.events
    assert isinstance(event, JourneyStepReached)
    assert (event.journey_id, event.step_id, event.label, event.contact_id, event.entry) == (
        JOURNEY,
        "hook",
        "Tell the CRM",
        c,
        1,
    )
    assert w.mail.steps_of(c) == ["hello"]


# -- counters ------------------------------------------------------------------------------------------
def test_counters_follow_each_step() -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    assert w.counts() == {
        "entered": 1,
        "s|hello|entered": 1,
        "s|hello|sent": 1,
        "s|hello|completed": 1,
        "s|pause|entered": 1,
    }
    w.advance(DAY)
    assert w.counts() == {
        "entered": 1,
        "completed": 1,
        "s|hello|entered": 1,
        "s|hello|sent": 1,
        "s|hello|completed": 1,
        "s|pause|entered": 1,
        "s|pause|completed": 1,
        "s|again|entered": 1,
        "s|again|sent": 1,
        "s|again|completed": 1,
    }


# -- pause, resume, stop ---------------------------------------------------------------------------------
def test_pause_holds_those_whose_timers_fire_and_resume_releases_them_page_by_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "PAGE", 2)
    w, ids = world(SERIES, contacts=5)
    for n, c in enumerate(ids):
        enter(w, c, f"e{n}")
    w.journeys.set_status(JOURNEY, "paused")
    assert w.advance(DAY) == ["Held"] * 5
    assert {w.progress(c).status for c in ids} == {"held"}  # type: ignore[union-attr]
    assert all(w.mail.steps_of(c) == ["hello"] for c in ids)
    assert w.runner.on_resume(JOURNEY, None) == "NotLive"
    w.journeys.set_status(JOURNEY, "live")
    w.resumes.resume(JOURNEY, None)  # what the API's resume does
    assert w.drain_resumes() == 3
    assert all(w.mail.steps_of(c) == ["hello"] for c in ids)  # released as due timers: on the queue
    assert w.advance(1) == ["Woken"] * 5
    assert all(w.mail.steps_of(c) == ["hello", "again"] for c in ids)
    assert {w.progress(c).status for c in ids} == {"done"}  # type: ignore[union-attr]


def test_a_held_contact_released_twice_moves_once() -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    w.journeys.set_status(JOURNEY, "paused")
    w.advance(DAY)
    w.journeys.set_status(JOURNEY, "live")
    w.runner.on_resume(JOURNEY, None)
    w.runner.on_resume(JOURNEY, None)
    w.advance(10)  # the release's timer at once, then its safety timer
    assert w.mail.steps_of(c) == ["hello", "again"]


def test_stop_lets_everyone_go_at_their_next_timer() -> None:
    w, ids = world(SERIES, contacts=2)
    enter(w, ids[0], "e1")
    enter(w, ids[1], "e2")
    w.journeys.set_status(JOURNEY, "stopped")
    w.advance(DAY)
    assert {(w.progress(c).status, w.progress(c).outcome) for c in ids} == {("exited", "stopped")}  # type: ignore[union-attr]
    assert w.counts()["exited"] == 2
    assert all(w.mail.steps_of(c) == ["hello"] for c in ids)


# -- versions ----------------------------------------------------------------------------------------------
V2 = journey([mail("hello"), wait("pause"), mail("again"), mail("more")], goals=[{"event": ORDER}])


@pytest.mark.parametrize(("migrate", "mails"), [(True, ["hello", "again", "more"]), (False, ["hello", "again"])])
def test_in_flight_contacts_finish_on_their_version_unless_migrated(migrate: bool, mails: list[str]) -> None:
    w, (old, new) = world(SERIES, contacts=2)
    enter(w, old, "e1")
    w.journeys.revise(JOURNEY, V2, migrate=migrate)
    enter(w, new, "e2")
    w.advance(DAY)
    assert w.mail.steps_of(old) == mails
    assert w.mail.steps_of(new) == ["hello", "again", "more"]
    assert w.progress(old).version == (2 if migrate else 1)  # type: ignore[union-attr]
    assert w.counts(version=2).get("migrated_in", 0) == (1 if migrate else 0)


def test_a_migration_waits_for_a_step_the_new_version_has() -> None:
    renamed = journey([mail("hello"), wait("pause"), mail("bonjour")])
    w, (c,) = world(SERIES)
    enter(w, c)
    w.journeys.revise(JOURNEY, renamed, migrate=True)
    w.advance(DAY)  # their next step, `again`, is not in v2: they finish on v1
    assert w.mail.steps_of(c) == ["hello", "again"]
    assert w.progress(c).version == 1  # type: ignore[union-attr]


# -- erasure -------------------------------------------------------------------------------------------------
def test_an_erased_contact_is_forgotten() -> None:
    w, (c, other) = world(SERIES, contacts=2)
    enter(w, c, "e1")
    enter(w, other, "e2")
    erased = Delivery(catalogue.ERASED, Source.CONTACTS, {"contact_id": c}, "x1")
    assert w.runner.on_event(erased) == "Forgotten"
    assert w.runner.on_event(erased) == "Ignored"
    assert w.progress(c) is None
    w.advance(DAY)
    assert w.mail.steps_of(c) == ["hello"]
    assert w.mail.steps_of(other) == ["hello", "again"]


# -- crashes ----------------------------------------------------------------------------------------------------
def run_series(w: World, c: str) -> None:
    """Enter, wait out the pause (each message delivered until it is handled, as the queue does)."""
    for _ in range(5):
        try:
            enter(w, c)
            break
        except Crash:
            continue
    until = w.clock.now() + timedelta(days=1)
    while (timer := w.timers.next_due(until)) is not None:
        w.clock.at = timer.at
        for _ in range(5):
            try:
                w.fire(timer)
                break
            except Crash:
                continue


def test_a_clean_run_makes_five_moves() -> None:
    w, (c,) = world(SERIES)
    run_series(w, c)
    assert w.store.moves == 5


@pytest.mark.parametrize("after", [False, True], ids=["before the write", "after the write"])
@pytest.mark.parametrize("at", [1, 2, 3, 4, 5])
def test_a_crash_at_any_move_then_the_same_message_again_gives_a_clean_runs_result(at: int, after: bool) -> None:
    clean, (c,) = world(SERIES)
    run_series(clean, c)
    w, (c,) = world(SERIES, crash_at=[at], crash_after=after)
    run_series(w, c)
    assert w.crashes.crashed == 1
    assert w.mail.steps_of(c) == ["hello", "again"]
    assert w.counts() == clean.counts()
    assert w.progress(c).model_dump(exclude={"updated_at"}) == clean.progress(c).model_dump(exclude={"updated_at"})  # type: ignore[union-attr]


@pytest.mark.parametrize(("at", "after"), [(1, False), (1, True), (2, False), (2, True)])
def test_a_crash_while_releasing_a_held_contact_then_the_page_again_finishes_them(at: int, after: bool) -> None:
    w, (c,) = world(SERIES)
    enter(w, c)
    w.journeys.set_status(JOURNEY, "paused")
    w.advance(DAY)
    w.journeys.set_status(JOURNEY, "live")
    w.crashes.at, w.crashes.after = {w.crashes.calls + at}, after
    for _ in range(3):
        try:
            w.runner.on_resume(JOURNEY, None)
            break
        except Crash:
            continue
    w.deliver_due(10)  # the release's timer (sent at once), else its safety timer a few minutes on
    assert w.mail.steps_of(c) == ["hello", "again"]
    assert w.progress(c).status == "done"  # type: ignore[union-attr]


# -- who an event names -------------------------------------------------------------------------------------------
def test_a_solved_case_names_its_requester_and_an_order_its_email() -> None:
    d = journey([mail("survey"), wait("pause")], entry={"event": "CaseSolved.v1"}, goals=[{"event": ORDER}])
    w, (c,) = world(d)
    w.book.cases["k9"] = c
    assert w.event("CaseSolved.v1", {"case_id": "k9"}, "s1") == "Entered"
    assert w.event("CaseSolved.v1", {"case_id": "unknown"}, "s2") == "Ignored"
    assert w.event(ORDER, {"email": "nobody@example.com"}, "o0") == "Ignored"
    assert order(w, 0) == "Converted"
    assert w.mail.steps_of(c) == ["survey"]
