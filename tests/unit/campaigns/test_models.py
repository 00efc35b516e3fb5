"""unit: request models — every rejection names its field; schedules are time-zone aware."""

from datetime import UTC, datetime

import pytest
from ecrm.api import field_errors
from ecrm.campaigns.models import (
    CampaignDraft,
    Counts,
    OneOffSchedule,
    PreferencesUpdate,
    RecurringSchedule,
    local_to_utc,
)
from pydantic import ValidationError

from tests.unit.campaigns.world import hex_id

ONE_OFF = {"kind": "one_off", "at": "2026-12-01T09:00:00", "timezone": "Europe/Berlin"}
VALID = {"name": "Launch", "template_id": hex_id(1), "segment_id": hex_id(2), "schedule": ONE_OFF}


def errors_of(model, body):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {e["field"]: e["message"] for e in field_errors(caught.value.errors())}


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"segment_id": None}, "segment_id", "needs a segment"),
        ({"template_id": "42"}, "template_id", "pattern"),
        ({"name": "<b>x</b>"}, "name", "'<' or '>'"),
        ({"topic": "all"}, "topic", "reserved"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"schedule": {**ONE_OFF, "timezone": "Mars/Olympus"}}, "schedule.one_off.timezone", "unknown time zone"),
        ({"schedule": {**ONE_OFF, "at": "2026-03-29T02:30:00"}}, "schedule.one_off.at", "does not exist"),
        ({"schedule": {"kind": "weekly"}}, "schedule", "tag"),
        ({"schedule": {"kind": "recurring", "cron": "0 9 * * *"}}, "schedule.recurring.cron", "six fields"),
        ({"schedule": {"kind": "recurring", "cron": "0 9 * * TUE *"}}, "schedule.recurring.cron", "'?'"),
        ({"schedule": {"kind": "recurring", "cron": "*/5 * ? * * *"}}, "schedule.recurring.cron", "minutes"),
        (
            {
                "schedule": {
                    "kind": "recurring",
                    "cron": "0 9 ? * MON *",
                    "start": "2027-01-01T00:00:00",
                    "end": "2026-01-01T00:00:00",
                }
            },
            "schedule.recurring.end",
            "later than start",
        ),
        (
            {"schedule": {"kind": "triggered", "detail_type": "OrderPlaced.v1"}},
            "schedule.triggered.detail_type",
            "triggered by",
        ),
        (
            {"schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1", "delay_minutes": -1}},
            "schedule.triggered.delay_minutes",
            "greater than",
        ),
        ({"ab": {"subjects": ["only one"]}}, "ab.subjects", "at least 2"),
        ({"ab": {"subjects": ["A {{ first_name }}", "B {{ frist }}"]}}, "ab.subjects.1", "frist"),
        ({"ab": {"subjects": ["A", "B"], "sample_fraction": 0.9}}, "ab.sample_fraction", "0.5"),
        ({"ab": {"subjects": ["A", "B"], "metric": "revenue"}}, "ab.metric", "open"),
        ({"schedule": {"kind": "recurring", "cron": "0 9 ? * MON *"}, "ab": {"subjects": ["A", "B"]}}, "ab", "one-off"),
    ],
)
def test_bad_campaign_fields_are_named(changes, field, says):
    found = errors_of(CampaignDraft, {**VALID, **changes})
    assert field in found, found
    assert says in found[field]


def test_triggered_campaign_needs_no_segment():
    draft = CampaignDraft.model_validate(
        {
            **VALID,
            "segment_id": None,
            "schedule": {"kind": "triggered", "detail_type": "ConsentConfirmed.v1", "delay_minutes": 30},
        }
    )
    assert draft.schedule.kind == "triggered" and draft.schedule.once_per_contact is True


def test_cron_is_stored_in_scheduler_form():
    draft = CampaignDraft.model_validate({**VALID, "schedule": {"kind": "recurring", "cron": "0 9 ? * TUE *"}})
    assert isinstance(draft.schedule, RecurringSchedule) and draft.schedule.cron == "cron(0 9 ? * TUE *)"


def test_local_times_resolve_across_daylight_saving():
    assert local_to_utc(datetime(2026, 3, 29, 3, 30), "Europe/Berlin") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 on the last Sunday of October happens twice: the first (summer time) is taken
    assert local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Berlin") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    aware = OneOffSchedule.model_validate(
        {"kind": "one_off", "at": "2026-12-01T09:00:00-05:00", "timezone": "Europe/Berlin"}
    )
    assert aware.instant == datetime(2026, 12, 1, 14, tzinfo=UTC)


def test_preferences_form_names_fields():
    found = errors_of(PreferencesUpdate, {"token": "t" * 20, "subscribed": ["ok", "Not OK!"], "sneaky": 1})
    assert set(found) == {"subscribed.1", "sneaky"}
    single = PreferencesUpdate.model_validate({"token": "t" * 20, "subscribed": "newsletter"})
    assert single.subscribed == ["newsletter"]  # one ticked box arrives as a string


def test_rates_fall_back_to_sent_until_deliveries_arrive():
    assert Counts(sent=10, opened=3).rate("open") == pytest.approx(0.3)
    assert Counts(sent=10, delivered=5, opened=3).rate("open") == pytest.approx(0.6)
    assert Counts().rate("click") == 0.0
