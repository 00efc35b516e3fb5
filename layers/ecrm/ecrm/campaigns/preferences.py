"""The public unsubscribe endpoints: RFC 8058 one-click POST, and the preferences page (GET shows,
POST changes). Both run on signed tokens; a token that fails verification changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ecrm.campaigns import unsubscribe
from ecrm.campaigns.events import ContactUnsubscribed
from ecrm.campaigns.models import ALL_TOPICS, Preferences, PreferencesUpdate, SendKey
from ecrm.campaigns.ports import ContactDirectory, PreferencesStore, SendStore
from ecrm.campaigns.unsubscribe import UnsubscribeClaims
from ecrm.clock import Clock
from ecrm.contacts.ports import TokenSigner
from ecrm.errors import Conflict, InvalidInput, NotFound
from ecrm.model import Model

_ATTEMPTS = 3
_Rule = Callable[[Preferences], Preferences | None]


class TopicChoice(Model):
    topic: str
    subscribed: bool


class PreferencesView(Model):
    """What the preferences page shows: no address or name, only the choices."""

    topics: list[TopicChoice]
    unsubscribed_all: bool


class PreferenceCenter:
    def __init__(
        self,
        *,
        signer: TokenSigner,
        preferences: PreferencesStore,
        records: SendStore,
        contacts: ContactDirectory,
        clock: Clock,
        topics: Sequence[str],
    ) -> None:
        self._signer = signer
        self._preferences = preferences
        self._records = records
        self._contacts = contacts
        self._clock = clock
        self._topics = tuple(topics)

    def one_click(self, token: str) -> bool:
        """Unsubscribe from the token's topic. True if that changed something; a repeat (or an
        erased contact) answers the same 2xx and changes nothing."""
        claims = unsubscribe.read(self._signer, token, self._clock.now())
        return self._change(claims, lambda prefs: unsubscribe.unsubscribe(prefs, [claims.topic], self._clock.now()))

    def topic(self, token: str) -> str:
        """The topic a genuine token unsubscribes from (InvalidToken otherwise); reads nothing."""
        return unsubscribe.read(self._signer, token, self._clock.now()).topic

    def page(self, token: str) -> PreferencesView:
        """GET never changes anything: mail scanners and link previews open links."""
        claims = unsubscribe.read(self._signer, token, self._clock.now())
        return self._view(self._preferences.get(claims.contact_id))

    def update(self, form: PreferencesUpdate) -> PreferencesView:
        claims = unsubscribe.read(self._signer, form.token, self._clock.now())
        unknown = sorted(set(form.subscribed) - set(self._topics))
        if unknown:
            raise InvalidInput("subscribed", f"unknown topic {unknown[0]!r}", status=422)
        self._change(
            claims,
            lambda prefs: unsubscribe.choose(
                prefs, self._topics, form.subscribed, form.unsubscribe_all, self._clock.now()
            ),
        )
        return self._view(self._preferences.get(claims.contact_id))

    def _change(self, claims: UnsubscribeClaims, rule: _Rule) -> bool:
        if self._contacts.get(claims.contact_id) is None:
            return False  # erased: nothing to keep, and nothing to write back
        for _ in range(_ATTEMPTS):
            current = self._preferences.get(claims.contact_id)
            changed = rule(current)
            if changed is None:
                return False
            dropped = sorted(changed.unsubscribed - current.unsubscribed)
            events = [
                ContactUnsubscribed(
                    occurred_at=self._clock.now(),
                    contact_id=claims.contact_id,
                    topics=dropped,
                    campaign_id=claims.campaign_id,
                )
            ]
            try:
                self._preferences.save(
                    changed.model_copy(update={"version": current.version + 1}),
                    current.version,
                    events=events if dropped else [],
                )
            except Conflict:
                continue
            except NotFound:
                return False  # erased between the check above and the write: nothing is kept
            if dropped:  # the campaign's stats: the send that brought the contact here
                key = SendKey(campaign_id=claims.campaign_id, run_id=claims.run_id, contact_id=claims.contact_id)
                self._records.mark(key, "unsubscribed", self._clock.now())
            return True
        raise Conflict("preferences kept changing")

    def _view(self, prefs: Preferences) -> PreferencesView:
        return PreferencesView(
            topics=[TopicChoice(topic=t, subscribed=prefs.allows(t)) for t in self._topics],
            unsubscribed_all=ALL_TOPICS in prefs.unsubscribed,
        )
