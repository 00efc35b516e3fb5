"""unit: the EventBridge publisher's batching and retries, and role parsing."""

from datetime import UTC, datetime

import pytest
from ecrm import access
from ecrm.adapters.eventbridge import EventBridgePublisher
from ecrm.errors import Forbidden, PublishFailed
from ecrm.events import ContactErased


class FlakyEvents:
    """Rejects the first entry of each call `failures` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[int] = []

    def put_events(self, Entries):
        self.calls.append(len(Entries))
        results = [{"EventId": str(i)} for i, _ in enumerate(Entries)]
        if self.failures:
            self.failures -= 1
            results[0] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return {"FailedEntryCount": 1, "Entries": results}
        return {"FailedEntryCount": 0, "Entries": results}


def erased(n: int) -> list[ContactErased]:
    return [ContactErased(occurred_at=datetime(2026, 1, 1, tzinfo=UTC), contact_id=f"{i:032x}") for i in range(n)]


def test_batches_of_ten_and_only_failed_entries_are_retried():
    client = FlakyEvents(failures=1)
    EventBridgePublisher(client, "bus", sleep=lambda _: None).publish(erased(23))  # type: ignore[arg-type]
    assert client.calls == [10, 1, 10, 3]


def test_persistent_failure_raises():
    client = FlakyEvents(failures=99)
    with pytest.raises(PublishFailed):
        EventBridgePublisher(client, "bus", attempts=3, sleep=lambda _: None).publish(erased(1))  # type: ignore[arg-type]
    assert client.calls == [1, 1, 1]


@pytest.mark.parametrize(
    ("groups", "roles"),
    [
        ("admin", {"admin"}),
        ("admin,agent", {"admin", "agent"}),
        ("[agent marketer]", {"agent", "marketer"}),
        (["marketer"], {"marketer"}),
        (None, set()),
    ],
)
def test_cognito_groups_claim_shapes(groups, roles):
    assert access.caller_roles({"authorizer": {"claims": {"cognito:groups": groups}}}) == roles


def test_require_refuses_other_roles():
    with pytest.raises(Forbidden):
        access.require({"authorizer": {"claims": {"cognito:groups": "marketer"}}}, access.CONTACT_GDPR)
    access.require({"authorizer": {"claims": {"cognito:groups": "admin"}}}, access.CONTACT_GDPR)
