"""Locally minted sign-in tokens: HS256 JWTs checked the way the Cognito authorizer checks its own.

The key lives in `.ecrm-local/signing.key` under the working directory (git-ignored), created on
first use, so `ecrm token` in one shell mints what `ecrm local` in another accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from typing import Any

from ecrm.names import Role

KEY_FILE = Path(".ecrm-local") / "signing.key"
ISSUER = "ecrm-local"
_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidToken(Exception):
    pass


def load_key(root: Path | None = None) -> bytes:
    path = (root or Path.cwd()) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # exclusive create: two processes starting at once still end up with one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _sign(key: bytes, signing_input: str) -> str:
    return _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def mint(key: bytes, role: str, email: str | None = None, ttl_seconds: int = 3600, now: float | None = None) -> str:
    if role not in Role.ALL:
        raise ValueError(f"role must be one of {Role.ALL}")
    issued = int(time.time() if now is None else now)
    email = email or f"{role}@example.com"
    claims = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ecrm-local:{email}")),
        "email": email,
        "cognito:groups": [role],
        "cognito:username": email,
        "token_use": "id",
        "iss": ISSUER,
        "aud": ISSUER,
        "iat": issued,
        "auth_time": issued,
        "exp": issued + ttl_seconds,
    }
    signing_input = f"{_compact(_HEADER)}.{_compact(claims)}"
    return f"{signing_input}.{_sign(key, signing_input)}"


def verify(key: bytes, token: str, now: float | None = None) -> dict[str, Any]:
    """The token's claims, or InvalidToken (bad shape, algorithm, signature, issuer or expiry)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    try:
        header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
    except ValueError as exc:
        raise InvalidToken("undecodable") from exc
    if header != _HEADER or not isinstance(claims, dict):
        raise InvalidToken("unexpected header")
    if not hmac.compare_digest(_sign(key, f"{parts[0]}.{parts[1]}"), parts[2]):
        raise InvalidToken("bad signature")
    if claims.get("iss") != ISSUER or claims.get("token_use") != "id":
        raise InvalidToken("wrong issuer or token use")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as a REST API Cognito authorizer hands them on: every value a string, groups joined,
    times in the Java `Date.toString()` form API Gateway uses (`Sun Nov 22 20:25:48 UTC 2026`)."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat"):
            out[name] = _java_date(int(value))
        elif isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


def _java_date(epoch: int) -> str:
    rfc = formatdate(epoch, usegmt=True)  # 'Sun, 22 Nov 2026 20:25:48 GMT'
    day, date, month, year, clock, _ = rfc.replace(",", "").split()
    return f"{day} {month} {date} {clock} UTC {year}"
