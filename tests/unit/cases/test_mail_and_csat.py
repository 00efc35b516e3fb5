"""unit: mail to requesters and staff (once per business key), the CSAT survey and its rating."""

from urllib.parse import parse_qs, urlsplit

import pytest
from ecrm.cases.models import CaseRequest, CommentRequest, CsatRequest
from ecrm.errors import Conflict, InvalidToken

from tests.unit.cases.world import AGENT, World


@pytest.fixture
def world():
    return World()


def survey_token(world: World) -> str:
    link = next(line for line in world.outbox.sent[-1].text.splitlines() if line.startswith("https://"))
    return parse_qs(urlsplit(link).query)["token"][0]


def test_a_public_reply_is_mailed_to_the_requester_once_and_a_note_never(world):
    case = world.open(requester_first_name="Carla")
    world.work.comment(case.id, CommentRequest(body="Internal: customer is grumpy"), AGENT)
    world.work.comment(case.id, CommentRequest(body="Please restart <the> printer & wait", visibility="public"), AGENT)
    assert world.deliver_mail() == 1
    mail = world.outbox.sent[0]
    assert mail.to == "carla@example.com" and mail.subject == f"Re: Printer on fire [#{case.id[:8]}]"
    assert "Please restart <the> printer & wait" in mail.text
    assert "restart &lt;the&gt; printer &amp; wait" in mail.html and "<the>" not in mail.html
    assert "grumpy" not in mail.text
    world._mailed = 0  # the bus redelivers every event
    assert world.deliver_mail() == 0 and len(world.outbox.sent) == 1


def test_solving_sends_one_survey_and_its_link_records_one_rating(world):
    case = world.open()
    world.work.solve(case.id, AGENT)
    assert world.deliver_mail() == 1
    token = survey_token(world)
    world.advance(days=1)
    result = world.survey.rate(CsatRequest(token=token, rating=4, comment="quick, thanks"))
    rated = world.case(case.id)
    assert (result.rating, rated.csat.rating, rated.csat.comment) == (4, 4, "quick, thanks")
    assert world.bus.types()[-1] == "CaseRated.v1" and world.bus.events[-1].rating == 4
    writes = world.repo.writes
    with pytest.raises(Conflict, match="rated already"):
        world.survey.rate(CsatRequest(token=token, rating=1))
    assert world.repo.writes == writes and world.case(case.id).csat.rating == 4
    assert [e.actor for e in world.repo.audit[case.id]][-1] == "requester"


def test_a_tampered_or_expired_survey_link_writes_nothing(world):
    case = world.open()
    world.work.solve(case.id, AGENT)
    world.deliver_mail()
    token = survey_token(world)
    writes = world.repo.writes
    with pytest.raises(InvalidToken):
        world.survey.rate(CsatRequest(token=token[:-4] + "AAAA", rating=5))
    world.advance(days=15)
    with pytest.raises(InvalidToken, match="expired"):
        world.survey.rate(CsatRequest(token=token, rating=5))
    assert world.repo.writes == writes and world.case(case.id).csat is None


def test_no_survey_for_a_case_reopened_before_the_mailer_ran(world):
    case = world.open()
    world.work.solve(case.id, AGENT)
    world.work.reopen(case.id, AGENT)
    assert world.deliver_mail() == 0


def test_notices_for_an_unassigned_case_go_to_the_team_lead_or_else_management(world):
    support = world.open(team="support")
    nobody = world.open()
    world.advance(hours=1)  # both first responses overdue
    world.fire_due()
    world.deliver_mail()
    to = {m.to for m in world.outbox.sent if "level 1" in m.subject and support.id[:8] in m.subject}
    assert to == {"lead@corp.test"}
    to = {m.to for m in world.outbox.sent if "level 1" in m.subject and nobody.id[:8] in m.subject}
    assert to == {"boss@corp.test"}


def test_a_warning_about_a_milestone_met_meanwhile_is_not_sent(world):
    case = world.open(assignee_id="agent-1")
    world.advance(minutes=45)
    world.fire_due()  # first response warning applied
    world.work.comment(case.id, CommentRequest(body="Hi", visibility="public"), AGENT)
    assert world.deliver_mail() == 1  # the reply, not the warning
    assert world.outbox.sent[0].to == "carla@example.com"


def test_staff_notices_escape_what_customers_wrote(world):
    receipt = world.intake.submit_form(
        CaseRequest.model_validate(
            {"email": "eve@example.com", "subject": 'Tom & Jerry\'s "order"', "description": "x"}
        )
    )
    world.work.update(receipt.id, _patch(assignee_id="agent-1"), AGENT)
    world.advance(minutes=45)
    world.fire_due()
    world.deliver_mail()
    notice = world.outbox.sent[-1]
    assert "Tom &amp; Jerry&#x27;s &quot;order&quot;" in notice.html
    assert f'href="https://crm.test/cases/{receipt.id}"' in notice.html


def _patch(**fields):
    from ecrm.cases.models import CasePatch

    return CasePatch.model_validate({"expected_version": 1, **fields})


def test_a_new_case_is_acknowledged_to_its_requester_once_on_the_configured_channels():
    world = World(acknowledge=frozenset({"web", "agent"}))
    case = world.open(requester_first_name="Carla", subject="Printer & toner")  # agent channel
    assert world.deliver_mail() == 1
    (mail,) = world.outbox.sent
    assert (
        mail.to == "carla@example.com" and mail.subject == f"We received your request: Printer & toner [#{case.id[:8]}]"
    )
    assert f"#{case.id[:8]}" in mail.text and mail.headers["X-Case-Reference"] == case.id[:8]
    assert "Printer &amp; toner" in mail.html and "Printer & toner" not in mail.html
    world._mailed = 0  # the bus redelivers every event
    assert world.deliver_mail() == 0 and len(world.outbox.sent) == 1


def test_channels_not_configured_and_erased_requesters_get_no_acknowledgement():
    world = World(acknowledge=frozenset({"web"}))
    world.open()  # agent channel: not configured here
    assert world.deliver_mail() == 0
    erased = World(acknowledge=frozenset({"agent"}))
    case = erased.open()
    del erased.requesters.people[case.requester_id]  # the contact was erased before the mailer ran
    assert erased.deliver_mail() == 0 and erased.outbox.sent == []
