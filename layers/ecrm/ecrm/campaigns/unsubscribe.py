"""Unsubscribe links: signed tokens, the RFC 8058 headers, and the per-topic preference rules.

A token names the contact, the campaign and the topic it was sent for, and is signed with purpose
`unsubscribe`, so a consent-confirmation token (or any other) cannot be replayed here. Tokens are
stateless and long-lived: an unsubscribe link must keep working long after the mail was sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from ecrm.campaigns.models import ALL_TOPICS, Preferences
from ecrm.contacts.ports import TokenSigner
from ecrm.errors import InvalidToken

PURPOSE = "unsubscribe"
TOKEN_TTL = timedelta(days=400)
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class UnsubscribeClaims:
    contact_id: str
    campaign_id: str
    run_id: str
    topic: str


_FIELDS = ("c", "m", "r", "t")


def mint(signer: TokenSigner, claims: UnsubscribeClaims, now: datetime, ttl: timedelta = TOKEN_TTL) -> str:
    values = (claims.contact_id, claims.campaign_id, claims.run_id, claims.topic)
    return signer.sign(PURPOSE, dict(zip(_FIELDS, values, strict=True)), now + ttl)


def read(signer: TokenSigner, token: str, now: datetime) -> UnsubscribeClaims:
    """The claims of a genuine, unexpired unsubscribe token, or InvalidToken."""
    body = signer.verify(PURPOSE, token, now)
    values = [body.get(k) for k in _FIELDS]
    if not all(isinstance(v, str) and v for v in values):
        raise InvalidToken("malformed token")
    contact_id, campaign_id, run_id, topic = (str(v) for v in values)
    return UnsubscribeClaims(contact_id, campaign_id, run_id, topic)


@dataclass(frozen=True)
class LinkBase:
    """Where the links point: the public unsubscribe endpoint (one-click POST and its GET page) and
    the preferences page; an optional mailbox for the mailto: alternative."""

    unsubscribe_url: str
    preferences_url: str
    mailto: str | None = None

    def __post_init__(self) -> None:
        if not _https_or_loopback(self.unsubscribe_url):
            raise ValueError("RFC 8058: the one-click unsubscribe URL must be https")


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _https_or_loopback(url: str) -> bool:
    """https, as RFC 8058 requires; plain http only for this machine's own address, which no mailbox
    provider can reach anyway (the local stack on a laptop serves http)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK)


@dataclass(frozen=True)
class Links:
    unsubscribe_url: str
    preferences_url: str
    headers: dict[str, str]


def links(base: LinkBase, token: str) -> Links:
    query = urlencode({"token": token})
    unsubscribe_url = f"{base.unsubscribe_url}?{query}"
    return Links(unsubscribe_url, f"{base.preferences_url}?{query}", headers(unsubscribe_url, base.mailto))


def headers(unsubscribe_url: str, mailto: str | None = None) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with the RFC 8058 one-click marker (what Gmail and Yahoo require
    of bulk senders). The https URL receives `POST` with body `List-Unsubscribe=One-Click`."""
    value = f"<{unsubscribe_url}>"
    if mailto:
        value += f", <mailto:{mailto}?subject=unsubscribe>"
    return {"List-Unsubscribe": value, "List-Unsubscribe-Post": ONE_CLICK}


def unsubscribe(prefs: Preferences, topics: Iterable[str], now: datetime) -> Preferences | None:
    """Preferences without `topics`; None if nothing changes (a second click, a mail scanner)."""
    wanted = frozenset(topics)
    if wanted <= prefs.unsubscribed or ALL_TOPICS in prefs.unsubscribed:
        return None
    return prefs.model_copy(update={"unsubscribed": prefs.unsubscribed | wanted, "updated_at": now})


def choose(
    prefs: Preferences, topics: Iterable[str], subscribed: Iterable[str], unsubscribe_all: bool, now: datetime
) -> Preferences | None:
    """The preferences page's answer: of the known `topics`, keep those ticked in `subscribed`. A
    topic not on the page keeps its state; `unsubscribe_all` wins over any tick."""
    known = frozenset(topics)
    ticked = frozenset(subscribed) & known
    if unsubscribe_all:
        chosen = prefs.unsubscribed | {ALL_TOPICS}
    else:
        chosen = (prefs.unsubscribed - ticked - {ALL_TOPICS}) | (known - ticked)
    if chosen == prefs.unsubscribed:
        return None
    return prefs.model_copy(update={"unsubscribed": frozenset(chosen), "updated_at": now})
