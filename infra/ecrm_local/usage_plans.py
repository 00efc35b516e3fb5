"""Machine clients' usage plans, as API Gateway applies them: a token bucket per API key, filled at
the client's rate up to its burst; a request that finds it empty is answered 429 (decision 85)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ecrm_infra.topology.clients import MachineClient


class UsagePlans:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)

    def admit(self, client: MachineClient) -> bool:
        """Take one request from `client`'s bucket: False when it is empty (API Gateway's 429)."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(client.name, (float(client.burst), now))
            tokens = min(float(client.burst), tokens + (now - at) * client.rate)
            admitted = tokens >= 1.0
            self._buckets[client.name] = (tokens - 1.0 if admitted else tokens, now)
            return admitted
