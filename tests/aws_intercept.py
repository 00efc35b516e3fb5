"""The one place the tests and benches step in front of every AWS request: botocore's
`BaseClient._make_api_call`, which every client of every service calls with the operation's name
and parameters. The grants recorder, the fault injection and request counting, and the bench's
bare replay all go through `intercepted`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

Send = Callable[[BaseClient, str, dict[str, Any]], Any]
Around = Callable[[BaseClient, str, dict[str, Any], Send], Any]


@contextmanager
def intercepted(around: Around) -> Iterator[None]:
    """Meanwhile, every AWS request any client makes goes to `around(client, operation, params,
    send)`, which makes it with `send(client, operation, params)` (or does not, or raises). Nests:
    an inner `around` sends through the outer one."""
    real: Send = getattr(BaseClient, "_make_api_call")  # noqa: B009 - a private botocore method, patched on purpose

    def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        return around(client, operation, params, real)

    setattr(BaseClient, "_make_api_call", call)  # noqa: B010
    try:
        yield
    finally:
        setattr(BaseClient, "_make_api_call", real)  # noqa: B010
