"""The change feed (`GET /contacts?updated_since=`): every contact in the order of its last change,
for systems that keep a copy in sync.

Each profile sits on gsi1 at `FEED#<shard>` / `<updated_at, UTC, microseconds>#<id>`, moved by
every write of the profile (the same item: no extra write); an erasure's tombstone sits there too.
A page merges the shards' Queries above the cursor and below a horizon: changes newer than
`SETTLE` are left for the next call, so a write whose transaction commits a moment after its
timestamp is not passed over. The cursor is the last position answered; a contact changed again
after it was listed comes again at its new position, once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecrm.errors import InvalidInput

PREFIX = "FEED#"
SHARDS = 8  # each a GSI partition of its own: 8 x 1,000 writes/s before one throttles
SETTLE = timedelta(seconds=5)
_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#([0-9a-f]{1,64}|~)$")


def shard(contact_id: str) -> str:
    return f"{PREFIX}{int(hashlib.sha256(contact_id.encode()).hexdigest()[:8], 16) % SHARDS}"


def at_key(at: datetime) -> str:
    """A time as the feed sorts it: fixed width, so text order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def position(at: datetime, contact_id: str) -> str:
    return f"{at_key(at)}#{contact_id}"


@dataclass(frozen=True)
class Window:
    """What one page reads: positions above `after` (exclusive) and below `before` (exclusive)."""

    after: str
    before: str

    @property
    def empty(self) -> bool:
        return self.after >= self.before


def window(updated_since: datetime | None, cursor: str | None, now: datetime) -> Window:
    """From the cursor if there is one, else from `updated_since` (a change at that very time is
    included), else from the beginning; up to the horizon `now - SETTLE`."""
    if cursor:
        after = decode(cursor)
    elif updated_since is not None:
        after = at_key(updated_since - timedelta(microseconds=1)) + "#~"  # every id at that time sorts above
    else:
        after = ""
    return Window(after, at_key(now - SETTLE))


def first(pages: Iterable[list[str]], limit: int) -> list[str]:
    """The first `limit` positions over every shard's page (each sorted, each at least `limit` long
    unless its shard had no more): a k-way merge."""
    return sorted(p for page in pages for p in page)[:limit]


def encode(pos: str) -> str:
    return base64.urlsafe_b64encode(pos.encode()).decode().rstrip("=")


def decode(cursor: str) -> str:
    try:
        pos = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pos = ""
    if not _POSITION.match(pos):
        raise InvalidInput("cursor", "not a cursor this feed gave", 400)
    return pos
