"""unit: A/B assignment is a pure function of (campaign, contact); winners are chosen deterministically."""

import pytest
from ecrm.campaigns import ab
from ecrm.campaigns.models import AbTest, Counts

from tests.unit.campaigns.test_lifecycle import campaign
from tests.unit.campaigns.world import hex_id

TEST = AbTest(subjects=["A", "B", "C"], sample_fraction=0.2, window_hours=4, metric="open")
IDS = [hex_id(n) for n in range(10_000)]


def test_assignment_is_stable_and_depends_on_the_campaign():
    first = [ab.variant_of(TEST, "c1", i) for i in IDS[:500]]
    assert first == [ab.variant_of(TEST, "c1", i) for i in IDS[:500]]
    assert first != [ab.variant_of(TEST, "c2", i) for i in IDS[:500]]


def test_sample_and_variant_shares_follow_the_configuration():
    sampled = [i for i in IDS if ab.in_sample(TEST, "c1", i)]
    assert 0.18 < len(sampled) / len(IDS) < 0.22
    shares = [sum(1 for i in sampled if ab.variant_of(TEST, "c1", i) == v) / len(sampled) for v in range(3)]
    assert all(0.28 < s < 0.39 for s in shares)


def test_stages_split_the_audience_without_overlap():
    c = campaign(ab={"subjects": ["A", "B"], "sample_fraction": 0.3})
    sample = {i for i in IDS[:2000] if ab.in_stage(c, "sample", i)}
    rest = {i for i in IDS[:2000] if ab.in_stage(c, "rest", i)}
    assert sample.isdisjoint(rest) and sample | rest == set(IDS[:2000])
    assert all(ab.in_stage(campaign(), "all", i) for i in IDS[:10])


def test_variant_for_the_rest_is_the_winner_only_once_chosen():
    c = campaign(ab={"subjects": ["A", "B"]})
    with pytest.raises(ValueError, match="winner"):
        ab.variant_for(c, "rest", IDS[0])
    assert ab.variant_for(c.model_copy(update={"ab_winner": 1}), "rest", IDS[0]) == 1
    assert ab.variant_for(campaign(), "all", IDS[0]) is None


@pytest.mark.parametrize(
    ("metric", "counts", "winner"),
    [
        ("open", {0: Counts(delivered=100, opened=20), 1: Counts(delivered=100, opened=35)}, 1),
        ("click", {0: Counts(delivered=100, opened=90, clicked=2), 1: Counts(delivered=100, opened=10, clicked=5)}, 1),
        ("open", {0: Counts(delivered=50, opened=10), 1: Counts(delivered=100, opened=20)}, 1),  # same rate: more hits
        (
            "open",
            {0: Counts(delivered=100, opened=20), 2: Counts(delivered=100, opened=20)},
            0,
        ),  # full tie: lower number
        ("open", {}, 0),  # no data at all
        ("open", {2: Counts(sent=10, opened=9)}, 2),  # deliveries not in yet: rate per sent mail
    ],
)
def test_winner_by_rate_with_deterministic_ties(metric, counts, winner):
    test = AbTest(subjects=["A", "B", "C"], metric=metric)
    assert ab.pick_winner(test, counts) == winner
