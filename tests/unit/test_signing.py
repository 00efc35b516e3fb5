"""unit: signed, expiring link tokens."""

from datetime import UTC, datetime, timedelta

import pytest
from ecrm.errors import InvalidToken
from ecrm.signing import Signer

NOW = datetime(2026, 11, 22, tzinfo=UTC)
signer = Signer(b"k" * 32)


def test_round_trip_returns_payload():
    token = signer.sign("confirm", {"c": "1"}, NOW + timedelta(hours=1))
    assert signer.verify("confirm", token, NOW)["c"] == "1"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "signature"),
        (lambda t: "x" + t, "signature"),
        (lambda t: t.split(".")[0], "signature"),
        (lambda t: Signer(b"o" * 32).sign("confirm", {"c": "1"}, NOW + timedelta(hours=1)), "signature"),
    ],
)
def test_tampered_tokens_are_rejected(mutate, reason):
    token = signer.sign("confirm", {"c": "1"}, NOW + timedelta(hours=1))
    with pytest.raises(InvalidToken, match=reason):
        signer.verify("confirm", mutate(token), NOW)


def test_expired_and_wrong_purpose_tokens_are_rejected():
    token = signer.sign("confirm", {"c": "1"}, NOW + timedelta(hours=1))
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify("confirm", token, NOW + timedelta(hours=1, seconds=1))
    with pytest.raises(InvalidToken, match="purpose"):
        signer.verify("unsubscribe", token, NOW)


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(b"short")


@pytest.mark.parametrize(
    "token", ["abcdefghijk.\u00e9", "\u00e9.abc", "abc.def\u2028", "\u0430bc.def", "abc\x00.d\u00e9f"]
)
def test_non_ascii_tokens_are_malformed_not_a_crash(token):
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify("confirm", token, NOW)


def test_a_valid_token_with_one_non_ascii_character_appended_is_refused():
    token = signer.sign("confirm", {"c": "1"}, NOW + timedelta(hours=1))
    with pytest.raises(InvalidToken):
        signer.verify("confirm", token + "\u00e9", NOW)
