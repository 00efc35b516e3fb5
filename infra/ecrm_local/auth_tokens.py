"""Locally minted tokens: HS256 JWTs checked the way the Cognito authorizer checks its own.

Staff get ID tokens (`mint`); machine clients get client-credentials access tokens (`mint_client`),
as the user pool's `/oauth2/token` endpoint issues them, only for a client the topology declares and
only with scopes it is allowed, and an API key (`api_key`) for their usage plan (decision 85).

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

from ecrm.access import granted_scopes
from ecrm.names import Role, Scope
from ecrm_infra.topology.clients import MACHINE_CLIENTS, MachineClient, client_named

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


def mint_client(
    key: bytes, client: str, scopes: tuple[str, ...] = (), ttl_seconds: int = 3600, now: float | None = None
) -> str:
    """A client-credentials access token for a declared client; `scopes` (short names) default to
    all it may have, and one it may not have is refused as Cognito refuses it (`invalid_scope`)."""
    declared = declared_client(client)
    asked = scopes or declared.scopes
    refused = sorted(set(asked) - set(declared.scopes))
    if refused:
        raise ValueError(f"invalid_scope: client {client!r} may have {list(declared.scopes)}, not {refused}")
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": client,  # Cognito: the app client's id, which is also the token's subject
        "client_id": client,
        "token_use": "access",
        "scope": " ".join(Scope.full(s) for s in asked),
        "iss": ISSUER,
        "iat": issued,
        "auth_time": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
        "version": 2,
    }
    signing_input = f"{_compact(_HEADER)}.{_compact(claims)}"
    return f"{signing_input}.{_sign(key, signing_input)}"


def declared_client(name: str) -> MachineClient:
    client = client_named(name)
    if client is None:
        raise ValueError(f"no machine client {name!r}; declared: {[c.name for c in MACHINE_CLIENTS]}")
    return client


def api_key(key: bytes, client: str) -> str:
    """The local API key of a declared client (API Gateway generates one per client in AWS)."""
    return _api_key(key, declared_client(client).name)


def _api_key(key: bytes, name: str) -> str:
    return f"{name}.{_b64(hmac.new(key, f'api-key:{name}'.encode(), hashlib.sha256).digest())[:32]}"


def client_of_api_key(key: bytes, presented: str) -> MachineClient | None:
    """The declared client whose API key this is, or None (API Gateway answers 403 Forbidden).
    Compared as bytes: a header may hold any character, and compare_digest refuses non-ASCII str."""
    name, _, _ = presented.partition(".")
    client = client_named(name)
    given = presented.encode("utf-8", "surrogateescape")
    if client is None or not hmac.compare_digest(_api_key(key, name).encode(), given):
        return None
    return client


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
    if claims.get("iss") != ISSUER or claims.get("token_use") not in ("id", "access"):
        raise InvalidToken("wrong issuer or token use")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= (time.time() if now is None else now):
        raise InvalidToken("expired")
    return claims


def accepted_by(claims: dict[str, Any], scopes: tuple[str, ...]) -> bool:
    """Whether the Cognito authorizer of a method takes this token: a method without scopes takes
    ID tokens only, one with scopes access tokens carrying one of them."""
    if not scopes:
        return claims.get("token_use") == "id"
    return claims.get("token_use") == "access" and bool(granted_scopes(claims) & {Scope.full(s) for s in scopes})


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
