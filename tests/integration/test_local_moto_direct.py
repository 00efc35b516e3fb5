"""The local stack's in-process calls to moto (ecrm_local.moto_direct, moto_dispatch): served by the
same WSGI application in the caller's thread, with the same answers, and back to HTTP once stopped."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ecrm_local import moto_direct, moto_dispatch
from moto.server import ThreadedMotoServer


def _table(name: str) -> dict[str, Any]:
    return {**TABLE, "TableName": f"{name}-{uuid.uuid4().hex[:8]}"}  # moto's backends outlive a server


TABLE = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[int]]]:
    """A moto server whose application records the thread serving each request."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    wsgi: Any = server._server
    served: list[int] = []
    app = wsgi.app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        served.append(threading.get_ident())
        return app(environ, start_response)

    wsgi.app = recording
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    moto_dispatch.install()
    moto_direct.install(endpoint, lambda: wsgi.app)
    try:
        yield endpoint, served
    finally:
        moto_direct.uninstall()
        server.stop()


def _client(endpoint: str, service: str) -> Any:
    session: Any = boto3.session.Session(region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint)


def test_calls_to_the_local_moto_are_served_in_the_calling_thread(moto: tuple[str, list[int]]) -> None:
    endpoint, served = moto
    db = _client(endpoint, "dynamodb")
    table = db.create_table(**_table("direct"))["TableDescription"]["TableName"]
    db.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})

    assert db.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert served == [threading.get_ident()] * 3


def test_errors_and_query_strings_come_back_as_over_http(moto: tuple[str, list[int]]) -> None:
    endpoint, served = moto
    db, sqs = _client(endpoint, "dynamodb"), _client(endpoint, "sqs")
    table = db.create_table(**_table("errors"))["TableDescription"]["TableName"]
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        db.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_exists(pk)")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]] == ["hello"]
    assert set(served) == {threading.get_ident()}


def test_once_uninstalled_calls_go_over_http_again(moto: tuple[str, list[int]]) -> None:
    endpoint, served = moto
    db = _client(endpoint, "dynamodb")  # a session made while installed keeps the hook
    moto_direct.uninstall()
    table = db.create_table(**_table("http"))["TableDescription"]["TableName"]
    _client(endpoint, "dynamodb").describe_table(TableName=table)

    assert len(served) == 2
    assert threading.get_ident() not in served


def test_moto_routes_the_same_with_its_answers_kept() -> None:
    import moto.backends

    moto_dispatch.install()
    modules = set(moto.backends.list_of_moto_modules())
    assert {"dynamodb", "sqs", "sesv2", "events", "scheduler"} <= modules
    assert "__pycache__" not in modules
