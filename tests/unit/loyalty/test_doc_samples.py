"""unit: the JSON samples in docs/loyalty.md validate against the models, and agree with each other."""

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ecrm.loyalty.events import LOYALTY_EVENT_TYPES
from ecrm.loyalty.ledger import expires_at, lot_for
from ecrm.loyalty.programme import Programme
from ecrm.loyalty.rules import points_for
from ecrm.loyalty.shop import OrderPlaced, parse_shop_event

DOC = Path(__file__).resolve().parents[3] / "docs" / "loyalty.md"
SAMPLE = re.compile(r"<!-- sample (\S+) -->\s*```json\n(.*?)```", re.DOTALL)


def samples() -> list[tuple[str, dict[str, Any]]]:
    found = [(kind, json.loads(body)) for kind, body in SAMPLE.findall(DOC.read_text())]
    assert len(found) >= 6
    return found


def first(kind: str) -> dict[str, Any]:
    return next(body for k, body in samples() if k == kind)


@pytest.mark.parametrize(("kind", "body"), samples(), ids=[k for k, _ in samples()])
def test_every_sample_validates(kind, body):
    if kind == "Programme":
        Programme.model_validate(body)
    elif kind in LOYALTY_EVENT_TYPES:
        LOYALTY_EVENT_TYPES[kind].model_validate(body)
    else:
        parse_shop_event(kind, body)


def test_the_earned_sample_is_what_the_sample_programme_gives_the_sample_order():
    programme = Programme.model_validate(first("Programme"))
    order = OrderPlaced.model_validate(first("OrderPlaced.v1"))
    earned = first("PointsEarned.v1")
    earning = points_for(order, programme.rules.at(order.placed_at), earned["tier"])
    credited = datetime.fromisoformat(earned["occurred_at"])
    assert (earning.points, earning.rule_version) == (earned["points"], earned["rule_version"])
    assert lot_for(credited) == earned["lot"]
    assert expires_at(earned["lot"], programme.expiry_months) == datetime.fromisoformat(earned["expires_at"])
