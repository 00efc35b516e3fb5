"""unit: deliveries are signed the Standard Webhooks way, checked by a verifier written here from
the specification (not from our signing code), and by the specification's own example."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from ecrm.webhooks import signatures

TOLERANCE = 5 * 60


class Refused(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, now: int) -> None:
    """A receiver's check, per the specification: a fresh timestamp, then any v1 signature among
    the space-separated ones equal (in constant time) to HMAC-SHA256 over `id.timestamp.body`
    keyed by the base64-decoded secret after `whsec_`."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(now - int(timestamp)) > TOLERANCE:
        raise Refused("timestamp too old or too new")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for candidate in headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise Refused("no matching signature")


def test_the_specifications_example_signs_as_the_specification_says():
    # standard-webhooks spec / reference libraries' test vector
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    got = signatures.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_whsec_and_24_random_bytes():
    one, two = signatures.new_secret(), signatures.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 24


def test_a_receiver_verifies_our_headers_and_refuses_forgeries_and_replays():
    secret = signatures.new_secret()
    body = '{"type":"contact.captured","timestamp":"2026-12-06T10:00:00Z","data":{"contact_id":"c1"}}'
    headers = signatures.headers([secret], "msg_0123", 1_800_000_000, body)
    verify(secret, headers, body.encode(), now=1_800_000_010)
    with pytest.raises(Refused):  # the body changed on the way
        verify(secret, headers, body.replace("c1", "c2").encode(), now=1_800_000_010)
    with pytest.raises(Refused):  # another secret (a forger's)
        verify(signatures.new_secret(), headers, body.encode(), now=1_800_000_010)
    with pytest.raises(Refused):  # replayed an hour later
        verify(secret, headers, body.encode(), now=1_800_003_600)
    with pytest.raises(Refused):  # a new timestamp put on an old signature
        verify(secret, {**headers, "webhook-timestamp": "1800003600"}, body.encode(), now=1_800_003_600)


def test_during_a_rotation_either_secret_verifies():
    old, new = signatures.new_secret(), signatures.new_secret()
    headers = signatures.headers([new, old], "msg_1", 1_800_000_000, "{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(old, headers, b"{}", now=1_800_000_000)
    verify(new, headers, b"{}", now=1_800_000_000)
