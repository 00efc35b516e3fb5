"""The role matrix, declared once: the topology puts it on routes, handlers enforce it.

In AWS the Cognito authorizer proves who the caller is; which group may do what is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecrm.errors import Forbidden
from ecrm.names import Role

CONTACT_READ = (Role.ADMIN, Role.AGENT, Role.MARKETER)
CONTACT_EDIT = (Role.ADMIN, Role.AGENT, Role.MARKETER)
CONTACT_GDPR = (Role.ADMIN,)


def caller_roles(request_context: dict[str, Any]) -> frozenset[str]:
    """Groups from the claims a REST API Cognito authorizer passes (`cognito:groups` arrives as a
    string, comma- or space-separated, sometimes in brackets; a list is accepted too)."""
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    groups = claims.get("cognito:groups") or ""
    if isinstance(groups, str):
        groups = groups.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in groups)


def require(request_context: dict[str, Any], allowed: Iterable[str]) -> None:
    if not caller_roles(request_context) & set(allowed):
        raise Forbidden("your role may not do this")
