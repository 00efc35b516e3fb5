"""ecrm.adapters.sqs.SqsQueue: ten per batch, failed entries sent again with backoff, then a clear
error; a sender fault at once; an optional delay on every message."""

from typing import Any

import pytest
from ecrm.adapters.sqs import SqsQueue
from ecrm.errors import PublishFailed
from pydantic import BaseModel


class Msg(BaseModel):
    n: int


class FakeSqs:
    """Answers each SendMessageBatch with the failures scripted for it (entry ids), then none."""

    def __init__(self, *failures: list[tuple[str, bool]]) -> None:
        self.calls: list[dict[str, Any]] = []
        self._failures = list(failures)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append({"QueueUrl": QueueUrl, "Entries": Entries})
        failed = self._failures.pop(0) if self._failures else []
        return {
            "Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in dict(failed)],
            "Failed": [{"Id": i, "SenderFault": fault, "Code": "Boom"} for i, fault in failed],
        }


def queue(client: FakeSqs, sleeps: list[float], **kwargs: Any) -> SqsQueue:
    return SqsQueue(client, "https://q", sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


def test_messages_go_ten_per_batch_as_their_json_without_a_delay_unless_asked() -> None:
    client, sleeps = FakeSqs(), list[float]()
    queue(client, sleeps).enqueue([Msg(n=n) for n in range(23)])
    assert [len(c["Entries"]) for c in client.calls] == [10, 10, 3]
    assert client.calls[2]["Entries"][0] == {"Id": "0", "MessageBody": '{"n":20}'}
    delayed = FakeSqs()
    queue(delayed, sleeps, delay_seconds=5000).enqueue([Msg(n=1)])
    assert delayed.calls[0]["Entries"][0]["DelaySeconds"] == 900  # SQS's maximum
    assert sleeps == []


def test_entries_that_failed_on_sqs_side_are_sent_again_with_backoff() -> None:
    client, sleeps = FakeSqs([("1", False), ("3", False)], [("3", False)]), list[float]()
    queue(client, sleeps).enqueue([Msg(n=n) for n in range(5)])
    assert [[e["MessageBody"] for e in c["Entries"]] for c in client.calls][1:] == [['{"n":1}', '{"n":3}'], ['{"n":3}']]
    assert sleeps == [0.05, 0.1]


def test_entries_still_failing_after_the_attempts_raise_a_clear_error() -> None:
    client, sleeps = FakeSqs(*[[("0", False)]] * 4), list[float]()
    with pytest.raises(PublishFailed, match="1 message\\(s\\) still not on the queue after 4 attempts"):
        queue(client, sleeps).enqueue([Msg(n=0), Msg(n=1)])
    assert len(client.calls) == 4 and sleeps == [0.05, 0.1, 0.2]


def test_a_sender_fault_is_not_retried() -> None:
    client, sleeps = FakeSqs([("0", True)]), list[float]()
    with pytest.raises(PublishFailed, match="SQS refused 1 message\\(s\\): Boom"):
        queue(client, sleeps).enqueue([Msg(n=0)])
    assert len(client.calls) == 1 and sleeps == []
