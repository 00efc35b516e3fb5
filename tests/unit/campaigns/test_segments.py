"""unit: segment rules, the index projection, and the planner (always an index Query, never a Scan)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ecrm.api import field_errors
from ecrm.campaigns.models import SegmentDraft
from ecrm.campaigns.segments import (
    Member,
    SegmentRules,
    activity_key,
    count,
    index_keys,
    member_from_contact,
    plan,
    sort_key,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.campaigns.fakes import MemoryIndex
from tests.unit.campaigns.world import T0, hex_id, make_contact, must

NOW = T0


def rules(include=(), exclude=()):
    return SegmentRules.model_validate({"include": list(include), "exclude": list(exclude)})


def member(n, **attrs):
    attrs.setdefault("last_activity", NOW - timedelta(days=n % 90))
    attrs.setdefault("consent_confirmed", True)
    return Member(contact_id=hex_id(n), **attrs)


def test_index_keys_cover_every_indexed_attribute():
    m = member(1, tags=frozenset({"vip", "beta"}), country="DE", utm_source="newsletter", tier="gold")
    assert index_keys(m) == {
        "SEG#tag#vip",
        "SEG#tag#beta",
        "SEG#consent#confirmed",
        "SEG#country#DE",
        "SEG#utm#newsletter",
        "SEG#tier#gold",
    }
    assert index_keys(member(2, consent_confirmed=False)) == frozenset()
    acme = member(3, company_id="a" * 32, company={"industry": "retail", "size": "50-200"})
    assert index_keys(acme) == {
        "SEG#consent#confirmed",
        f"SEG#companyid#{'a' * 32}",
        "SEG#company#industry=retail",
        "SEG#company#size=50-200",
    }


def test_sort_key_orders_by_activity_then_id():
    older, newer = member(1, last_activity=NOW - timedelta(days=2)), member(2, last_activity=NOW)
    assert sort_key(older) < sort_key(newer)
    assert sort_key(newer) == f"{activity_key(NOW)}#{hex_id(2)}" == f"2026-11-24T08:00:00Z#{hex_id(2)}"


def test_member_projection_from_a_contact():
    contact = make_contact(5, tags=("vip",), country="de", utm="Google Ads", created=NOW - timedelta(days=10))
    contact = contact.model_copy(update={"last_touch": must(contact.last_touch).model_copy(update={"at": NOW})})
    projected = member_from_contact(contact, tier="Gold", activity=NOW - timedelta(days=1))
    assert (projected.country, projected.utm_source, projected.tier) == ("DE", "google-ads", "gold")
    assert projected.last_activity == NOW  # the latest of creation, visits, consent and mail activity
    assert member_from_contact(make_contact(6, country="Germany")).country is None  # not an ISO code


def test_rule_values_are_normalized_like_contact_values():
    parsed = rules([{"kind": "utm_source", "any_of": ["Google Ads"]}, {"kind": "country", "any_of": ["de"]}])
    assert parsed.include[0].any_of == ["google-ads"] and parsed.include[1].any_of == ["DE"]


def test_most_selective_condition_drives_the_query():
    segment = rules([{"kind": "country", "any_of": ["DE"]}, {"kind": "tag", "any_of": ["vip"]}])
    by_default = plan(segment, NOW)
    assert [q.partition for q in by_default.queries] == ["SEG#tag#vip"]  # tags are assumed narrower
    counted = plan(segment, NOW, {"SEG#tag#vip": 50_000, "SEG#country#DE": 300})
    assert [q.partition for q in counted.queries] == ["SEG#country#DE"]  # real counts win


def test_segment_without_indexed_include_is_driven_by_consent():
    only_exclusions = plan(rules(exclude=[{"kind": "tag", "any_of": ["staff"]}]), NOW)
    assert [q.partition for q in only_exclusions.queries] == ["SEG#consent#confirmed"]
    everyone = plan(rules(), NOW)
    assert [q.partition for q in everyone.queries] == ["SEG#consent#confirmed"]


def test_activity_range_becomes_the_sort_key_condition():
    segment = rules([{"kind": "tag", "any_of": ["vip"]}, {"kind": "last_activity", "within_days": 30, "idle_days": 7}])
    (query,) = plan(segment, NOW).queries
    assert query.range.lower == activity_key(NOW - timedelta(days=30))
    assert query.range.upper == activity_key(NOW - timedelta(days=7))


def test_disjoint_activity_ranges_plan_no_query_at_all():
    segment = rules(
        [
            {"kind": "last_activity", "after": "2026-10-01T00:00:00Z"},
            {"kind": "last_activity", "before": "2026-09-01T00:00:00Z"},
        ]
    )
    assert plan(segment, NOW).queries == ()
    assert count(plan(segment, NOW), MemoryIndex()) == 0


def test_any_of_drives_one_query_per_value_and_counts_each_contact_once():
    index = MemoryIndex()
    for m in [
        member(1, tags=frozenset({"a"})),
        member(2, tags=frozenset({"a", "b"})),
        member(3, tags=frozenset({"b"})),
        member(4, tags=frozenset({"c"})),
    ]:
        index.put(m, index_keys(m))
    segment_plan = plan(rules([{"kind": "tag", "any_of": ["a", "b"]}]), NOW)
    assert [q.partition for q in segment_plan.queries] == ["SEG#tag#a", "SEG#tag#b"]
    assert count(segment_plan, index, page_size=1) == 3


def test_filters_apply_include_exclude_and_consent():
    index = MemoryIndex()
    population = [
        member(1, tags=frozenset({"vip"}), country="DE"),
        member(2, tags=frozenset({"vip"}), country="FR"),
        member(3, tags=frozenset({"vip", "staff"}), country="DE"),
        member(4, tags=frozenset({"vip"}), country="DE", consent_confirmed=False),
    ]
    for m in population:
        index.put(m, index_keys(m) | {"SEG#tag#vip"})  # 4 sits in the tag partition without consent
    segment = rules(
        [{"kind": "tag", "any_of": ["vip"]}, {"kind": "country", "any_of": ["DE"]}],
        [{"kind": "tag", "any_of": ["staff"]}],
    )
    segment_plan = plan(segment, NOW)
    accepted = [
        m.contact_id for m in index.query(segment_plan.queries[0], 100, None).members if segment_plan.accepts(m, 0)
    ]
    assert accepted == [hex_id(1)]


def test_every_count_is_index_queries_only():
    index = MemoryIndex()
    for n in range(30):
        m = member(n, tags=frozenset({"vip"}) if n % 3 == 0 else frozenset())
        index.put(m, index_keys(m))
    assert count(plan(rules([{"kind": "tag", "any_of": ["vip"]}]), NOW), index, page_size=4) == 10
    assert {q.partition for q in index.queries} == {"SEG#tag#vip"}
    assert len(index.queries) == 3  # ten items, four per page: three Query calls, nothing else


@pytest.mark.parametrize(
    ("rule_set", "field"),
    [
        ({"exclude": [{"kind": "consent"}]}, "rules.exclude"),
        ({"include": [{"kind": "tag", "any_of": []}]}, "rules.include.0.tag.any_of"),
        ({"include": [{"kind": "tag", "any_of": ["not ok!"]}]}, "rules.include.0.tag.any_of.0"),
        ({"include": [{"kind": "country", "any_of": ["Germany"]}]}, "rules.include.0.country.any_of.0"),
        ({"include": [{"kind": "last_activity"}]}, "rules.include.0.last_activity"),
        (
            {"include": [{"kind": "last_activity", "after": "2026-01-01T00:00:00"}]},
            "rules.include.0.last_activity.after",
        ),
        (
            {"include": [{"kind": "last_activity", "after": "2026-02-01T00:00:00Z", "before": "2026-01-01T00:00:00Z"}]},
            "rules.include.0.last_activity",
        ),
        ({"include": [{"kind": "shoe_size", "any_of": ["44"]}]}, "rules.include.0"),
        ({"include": [{"kind": "tag", "any_of": ["a"], "extra": 1}]}, "rules.include.0.tag.extra"),
        ({"where": "1=1"}, "rules.where"),
        (
            {"include": [{"kind": "company", "attribute": "Industry", "any_of": ["x"]}]},
            "rules.include.0.company.attribute",
        ),
        ({"include": [{"kind": "company", "attribute": "industry", "any_of": []}]}, "rules.include.0.company.any_of"),
        ({"include": [{"kind": "company_id", "any_of": ["acme"]}]}, "rules.include.0.company_id.any_of.0"),
    ],
)
def test_bad_rules_name_the_field(rule_set, field):
    with pytest.raises(ValidationError) as caught:
        SegmentDraft.model_validate({"name": "S", "rules": rule_set})
    assert field in [e["field"] for e in field_errors(caught.value.errors())]


# -- property: a plan's count equals brute force over the whole population ----------------------

TAGS = ["a", "b", "c"]
COUNTRIES = ["DE", "FR"]
TIERS = ["gold", "silver"]
COMPANIES = [("a" * 32, {"industry": "retail"}), ("b" * 32, {"industry": "software", "size": "small"})]

members_strategy: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    st.builds(
        dict,
        tags=st.frozensets(st.sampled_from(TAGS)),
        consent_confirmed=st.booleans(),
        suppressed=st.booleans(),
        country=st.none() | st.sampled_from(COUNTRIES),
        tier=st.none() | st.sampled_from(TIERS),
        company=st.none() | st.sampled_from(range(len(COMPANIES))),
        days=st.integers(0, 60),
    ),
    max_size=25,
)
rule_strategy = st.one_of(
    st.builds(lambda v: {"kind": "tag", "any_of": v}, st.lists(st.sampled_from(TAGS), min_size=1, max_size=3)),
    st.builds(lambda v: {"kind": "country", "any_of": v}, st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3)),
    st.builds(lambda v: {"kind": "tier", "any_of": v}, st.lists(st.sampled_from(TIERS), min_size=1, max_size=3)),
    st.just({"kind": "consent"}),
    st.builds(
        lambda v: {"kind": "company", "attribute": "industry", "any_of": v},
        st.lists(st.sampled_from(["retail", "Software", "banking"]), min_size=1, max_size=2),
    ),
    st.builds(
        lambda v: {"kind": "company_id", "any_of": v},
        st.lists(st.sampled_from(["a" * 32, "b" * 32]), min_size=1, max_size=2),
    ),
    st.builds(lambda d: {"kind": "last_activity", "within_days": d}, st.integers(1, 60)),
    st.builds(lambda d: {"kind": "last_activity", "idle_days": d}, st.integers(1, 60)),
)
exclude_strategy = rule_strategy.filter(lambda r: r["kind"] != "consent")


@settings(max_examples=200, deadline=None)
@example(  # one contact in two partitions the plan reads: must count once
    population=[
        {
            "tags": frozenset({"a", "b"}),
            "consent_confirmed": True,
            "suppressed": False,
            "country": None,
            "tier": None,
            "company": None,
            "days": 1,
        }
    ],
    include=[{"kind": "tag", "any_of": ["a", "b"]}],
    exclude=[],
    page_size=1,
)
@given(
    population=members_strategy,
    include=st.lists(rule_strategy, max_size=3),
    exclude=st.lists(exclude_strategy, max_size=2),
    page_size=st.integers(1, 7),
)
def test_plan_count_equals_brute_force(population, include, exclude, page_size):
    index = MemoryIndex()
    everyone = []
    for n, attrs in enumerate(population):
        fields = {k: v for k, v in attrs.items() if k not in ("days", "company")}
        if attrs["company"] is not None:
            fields["company_id"], fields["company"] = COMPANIES[attrs["company"]]
        m = Member(contact_id=hex_id(n), last_activity=NOW - timedelta(days=attrs["days"], minutes=n), **fields)
        index.put(m, index_keys(m))
        everyone.append(m)
    segment = rules(include, exclude)
    segment_plan = plan(segment, NOW)
    expected = sum(1 for m in everyone if m.consent_confirmed and not m.suppressed and segment_plan.matches(m))
    assert count(segment_plan, index, page_size) == expected
    assert segment_plan.queries or not expected  # a plan without queries matches nobody
    assert all(q.partition.startswith("SEG#") for q in index.queries)


def test_relative_activity_rules_follow_the_clock():
    segment = rules([{"kind": "last_activity", "within_days": 7}])
    m = member(1, last_activity=datetime(2026, 11, 20, tzinfo=UTC))
    assert plan(segment, datetime(2026, 11, 24, tzinfo=UTC)).matches(m)
    assert not plan(segment, datetime(2026, 12, 24, tzinfo=UTC)).matches(m)
