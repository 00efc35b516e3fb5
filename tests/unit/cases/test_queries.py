"""unit: work queues ordered by next deadline, paged by cursor; history and limits."""

import pytest
from ecrm.cases.models import CasePatch
from ecrm.errors import InvalidInput

from tests.unit.cases.world import AGENT, OTHER_AGENT, World


@pytest.fixture
def world():
    return World()


def all_pages(fetch, limit: int) -> list[list]:
    pages, cursor = [], None
    while True:
        page = fetch(limit=limit, cursor=cursor)
        pages.append([getattr(item, "id", item) for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_my_cases_come_most_urgent_first_paused_last_and_solved_not_at_all(world):
    low = world.open(assignee_id="agent-1", priority="low")  # first response due 13:00
    urgent = world.open(assignee_id="agent-1", priority="urgent")  # 09:15
    normal = world.open(assignee_id="agent-1")  # 10:00
    paused = world.open(assignee_id="agent-1", priority="urgent")
    solved = world.open(assignee_id="agent-1", priority="urgent")
    world.open(assignee_id="agent-2", priority="urgent")
    world.work.update(paused.id, CasePatch(status="on_hold", expected_version=1), AGENT)
    world.work.solve(solved.id, AGENT)
    pages = all_pages(lambda **kw: world.queries.mine(AGENT, **kw), limit=2)
    assert pages == [[urgent.id, normal.id], [low.id, paused.id]]
    assert [c.id for c in world.queries.mine(OTHER_AGENT).items] != pages[0]


def test_team_queue_and_breached_list(world):
    late = world.open(team="support")
    world.advance(minutes=30)
    later = world.open(team="support", priority="high")  # due 10:00 too, but created later: by id
    world.open(team="sales")
    assert [c.id for c in world.queries.team_queue("support").items] == sorted([late.id, later.id])
    assert world.queries.breached().items == []
    world.advance(minutes=31)
    world.fire_due()
    breached = [c.id for c in world.queries.breached().items]
    assert set(breached) == {late.id, later.id}
    # Level 2 has not come yet: both are still in support's queue, in breach.
    assert all(c.in_breach for c in world.queries.team_queue("support").items)


def test_history_pages_in_order(world):
    case = world.open()
    for n in range(4):
        world.work.update(case.id, CasePatch(add_tags=[f"t{n}"], expected_version=n + 1), AGENT)
    pages = all_pages(lambda **kw: world.queries.history(case.id, **kw), limit=2)
    everything = world.queries.history(case.id, limit=10).items
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e for page in pages for e in page] == everything  # no gaps, no repeats
    assert [e.version for e in everything] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("limit", [0, 101])
def test_page_sizes_are_bounded(world, limit):
    with pytest.raises(InvalidInput) as info:
        world.queries.mine(AGENT, limit=limit)
    assert info.value.field == "limit"


def test_detail_shows_the_steps_to_come_history_and_comments(world):
    from ecrm.cases.models import CommentRequest

    case = world.open(priority="urgent")
    world.work.comment(case.id, CommentRequest(body="on it", visibility="public"), AGENT)
    detail = world.queries.detail(case.id)
    assert detail.escalation_level == 0 and detail.version == 2
    assert [(s.milestone, s.step) for s in detail.sla_steps] == [("resolution", n) for n in range(4)]
    assert [e.action for e in detail.history] == ["created", "commented", "first_response", "status_changed"]
    assert [c.body for c in detail.comments] == ["on it"] and detail.history_cursor is None


def test_metrics_cover_the_cases_solved_in_the_window(world):
    from datetime import timedelta

    from tests.unit.cases.test_sla import at

    quick = world.open()
    world.advance(minutes=30)
    world.work.solve(quick.id, AGENT)  # solved in 30 business minutes
    world.open()  # still open: not counted
    report = world.queries.metrics(at(1, 0), at(2, 0))
    assert (report.cases, report.complete, report.median_resolution) == (1, True, timedelta(minutes=30))
    assert world.queries.metrics(at(2, 0), at(3, 0)).cases == 0


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [((2, 0), (1, 0), "until"), ((1, 0), (1, 0), "until")],
)
def test_metrics_windows_are_checked(world, since, until, field):
    from tests.unit.cases.test_sla import at

    with pytest.raises(InvalidInput) as info:
        world.queries.metrics(at(*since), at(*until))
    assert info.value.field == field


def test_metrics_windows_are_bounded_and_aware(world):
    from datetime import datetime, timedelta

    from tests.unit.cases.test_sla import at

    with pytest.raises(InvalidInput):
        world.queries.metrics(at(1, 0), at(1, 0) + timedelta(days=93))
    with pytest.raises(InvalidInput) as info:
        world.queries.metrics(datetime(2026, 6, 1), datetime(2026, 6, 2))
    assert info.value.field == "since"
