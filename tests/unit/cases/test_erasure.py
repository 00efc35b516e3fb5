"""unit: a requester's erasure redacts the free text of their cases, everywhere, once."""

import pytest
from ecrm.cases.erasure import REDACTED, CaseErasure
from ecrm.cases.models import CommentRequest, CsatRequest
from ecrm.errors import Conflict

from tests.unit.cases.test_mail_and_csat import survey_token
from tests.unit.cases.world import AGENT, World


@pytest.fixture
def world():
    return World()


def secrets_left(world: World, case_id: str) -> list[str]:
    """Every place the personal text could hide, rendered as JSON."""
    case = world.case(case_id)
    texts = [case.model_dump_json()]
    texts += [c.model_dump_json() for c in world.repo.comment_items.get(case_id, [])]
    texts += [e.model_dump_json() for e in world.repo.audit[case_id]]
    return [t for t in texts if "Carla" in t or "+49 170" in t]


def test_erasure_redacts_subject_description_comments_csat_and_history(world):
    case = world.open(subject="Carla's printer", description="Call Carla on +49 170 1234")
    other = world.open(requester_email="someone@example.com", subject="Carla mentioned here")
    world.work.comment(case.id, CommentRequest(body="Called Carla", visibility="public"), AGENT)
    world.work.comment(case.id, CommentRequest(body="note: +49 170 1234"), AGENT)
    world.work.solve(case.id, AGENT)
    world.deliver_mail()
    world.survey.rate(CsatRequest(token=survey_token(world), rating=4, comment="Carla says thanks"))
    assert secrets_left(world, case.id)
    erasure = CaseErasure(world.repo, world.clock)
    assert erasure.erase_requester(world.case(case.id).requester_id) == 1
    assert secrets_left(world, case.id) == []
    erased = world.case(case.id)
    assert (erased.subject, erased.description, erased.csat.comment, erased.csat.rating) == (
        REDACTED,
        REDACTED,
        None,
        4,
    )
    assert erased.requester_erased_at == world.clock.now() and erased.status == "solved"
    assert world.repo.audit[case.id][-1].action == "requester_erased"
    assert world.case(other.id).subject == "Carla mentioned here"  # another requester's case stays


def test_erasing_twice_changes_nothing_the_second_time(world):
    case = world.open(subject="Carla's printer")
    erasure = CaseErasure(world.repo, world.clock)
    erasure.erase_requester(case.requester_id)
    version, writes = world.case(case.id).version, world.repo.writes
    erasure.erase_requester(case.requester_id)
    assert world.case(case.id).version == version and world.repo.writes == writes


def test_a_crash_after_the_trail_is_finished_by_the_retry(world, monkeypatch):
    case = world.open(subject="Carla's printer")
    world.work.comment(case.id, CommentRequest(body="Carla called"), AGENT)
    erasure = CaseErasure(world.repo, world.clock)
    world.repo.before_write = lambda: (_ for _ in ()).throw(RuntimeError("died"))
    with pytest.raises(RuntimeError):
        erasure.erase_requester(case.requester_id)
    assert world.case(case.id).requester_erased_at is None  # the case is written last
    assert world.repo.comment_items[case.id][0].body == REDACTED
    erasure.erase_requester(case.requester_id)
    assert secrets_left(world, case.id) == []


def test_an_agent_racing_the_erasure_is_redacted_too(world):
    case = world.open(subject="Carla's printer")
    erasure = CaseErasure(world.repo, world.clock)
    world.repo.before_write = lambda: world.work.comment(case.id, CommentRequest(body="Carla again"), AGENT)
    erasure.erase_requester(case.requester_id)
    assert secrets_left(world, case.id) == []
    assert world.case(case.id).version == 3


def test_an_erasure_that_keeps_losing_races_fails_for_a_retry(world):
    case = world.open(subject="Carla's printer")
    erasure = CaseErasure(world.repo, world.clock)

    def always_conflict(*args, **kwargs):
        raise Conflict("busy")

    world.repo.save = always_conflict
    with pytest.raises(Conflict):
        erasure.erase_requester(case.requester_id)
