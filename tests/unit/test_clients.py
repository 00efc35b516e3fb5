"""unit: clients made on first use (ecrm.adapters.clients) — none before, one ever, even when
threads ask at once, and every attribute is the client's own."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from ecrm.adapters.clients import on_first_use


class FakeClient:
    def __init__(self, service: str, config: Any) -> None:
        self.service, self.config = service, config

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        return {"MessageId": "m-1", **kwargs}


class CountingSession:
    """Stands in for boto3's Session: counts the clients it makes, slowly (a wide race)."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def client(self, service: str, config: Any = None) -> FakeClient:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.01)
        with self._lock:
            self.inside -= 1
            self.made.append(service)
        return FakeClient(service, config)


def test_nothing_is_made_until_the_client_is_used() -> None:
    session = CountingSession()
    sqs: Any = on_first_use(cast(Any, session), "sqs")
    assert session.made == []
    assert "made on first use" in repr(sqs)
    assert sqs.send_message(QueueUrl="q") == {"MessageId": "m-1", "QueueUrl": "q"}
    assert sqs.send_message(QueueUrl="r")["QueueUrl"] == "r"
    assert session.made == ["sqs"]  # once
    assert "made>" in repr(sqs)


def test_the_config_reaches_the_client() -> None:
    session = CountingSession()
    config = object()
    ses: Any = on_first_use(cast(Any, session), "sesv2", config=cast(Any, config))
    assert ses.config is config and ses.service == "sesv2"


def test_threads_asking_at_once_get_one_client_made_by_one_of_them() -> None:
    session = CountingSession()
    clients: list[Any] = [on_first_use(cast(Any, session), "sqs"), on_first_use(cast(Any, session), "scheduler")]
    start = threading.Barrier(16)
    seen: list[Any] = []

    def use(client: Any) -> None:
        start.wait()
        seen.append(client.service)

    threads = [threading.Thread(target=use, args=(clients[i % 2],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(session.made) == ["scheduler", "sqs"]  # one each, however many asked
    assert session.most_inside == 1  # the Session (not thread-safe) made one client at a time
    assert sorted(seen) == ["scheduler"] * 8 + ["sqs"] * 8
