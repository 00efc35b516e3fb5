"""boto3 clients made on a function's first use of them, not at its cold start (issue #14).

A client costs its service's model: 4-60 ms and some MiB to load (the S3 model most). A function's
composition root makes its DynamoDB client as it always did (nearly every request reads a table),
and hands out the others through `on_first_use`: an API function whose first request reads a case
does not load the Scheduler's and SQS's models for the routes that arm timers.

Safe where boto3 is: the client is made once, under one lock, because a boto3 `Session` is not
thread-safe (the webhooks' deliveries and the campaign sender's lanes run records on threads); the
client itself is, and every use after the first goes straight to it. Under SnapStart nothing is
made before the snapshot, so every restored copy makes its own (ecrm.snapstart).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

_making = threading.Lock()  # one Session, made clients one at a time


class _OnFirstUse:
    """Stands in for a client: the first attribute asked for makes it; then every call is its own."""

    __slots__ = ("_client", "_config", "_service", "_session")

    def __init__(self, session: Session, service: str, config: Config | None) -> None:
        self._session = session
        self._service = service
        self._config = config
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:  # only for what is not a slot: the client's own attributes
        client = self._client
        if client is None:
            with _making:
                if self._client is None:
                    self._client = self._session.client(self._service, config=self._config)  # type: ignore[call-overload]
                client = self._client
        return getattr(client, name)

    @property
    def made(self) -> bool:
        return self._client is not None

    def __repr__(self) -> str:
        return f"<{self._service} client, {'made' if self.made else 'made on first use'}>"


@overload
def on_first_use(session: Session, service: Literal["sqs"], config: Config | None = None) -> SQSClient: ...
@overload
def on_first_use(
    session: Session, service: Literal["scheduler"], config: Config | None = None
) -> EventBridgeSchedulerClient: ...
@overload
def on_first_use(session: Session, service: Literal["sesv2"], config: Config | None = None) -> SESV2Client: ...
@overload
def on_first_use(session: Session, service: Literal["s3"], config: Config | None = None) -> Any: ...  # no S3 stubs
@overload
def on_first_use(session: Session, service: Literal["events"], config: Config | None = None) -> EventBridgeClient: ...
def on_first_use(session: Session, service: str, config: Config | None = None) -> Any:
    """`session.client(service, config=config)`, made when first used."""
    return _OnFirstUse(session, service, config)
