"""The role matrix, declared once: the topology puts it on routes, handlers enforce it.

In AWS the Cognito authorizer proves who the caller is; which group may do what is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ecrm.errors import Forbidden
from ecrm.names import Role

CONTACT_READ = (Role.ADMIN, Role.AGENT, Role.MARKETER)
CONTACT_EDIT = (Role.ADMIN, Role.AGENT, Role.MARKETER)
CONTACT_GDPR = (Role.ADMIN,)
# cases
CASE_READ = (Role.ADMIN, Role.AGENT)
CASE_WORK = (Role.ADMIN, Role.AGENT)
CASE_ADMIN = (Role.ADMIN,)  # SLA policies, calendars, team leads and management
# campaigns: templates, segments, campaigns and their stats
CAMPAIGN_READ = (Role.ADMIN, Role.MARKETER)
CAMPAIGN_EDIT = (Role.ADMIN, Role.MARKETER)
# loyalty
LOYALTY_READ = (Role.ADMIN, Role.AGENT, Role.MARKETER)
LOYALTY_REDEEM = (Role.ADMIN, Role.AGENT)
LOYALTY_ADJUST = (Role.ADMIN,)
LOYALTY_PROGRAMME = (Role.ADMIN,)  # replace the rules, tiers and expiry settings


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the authorizer's claims: the user's stable id (`sub`), e-mail and roles."""

    user_id: str
    email: str | None
    roles: frozenset[str]


def _claims(request_context: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = (request_context.get("authorizer") or {}).get("claims") or {}
    return claims


def caller(request_context: dict[str, Any]) -> Caller:
    claims = _claims(request_context)
    email = claims.get("email")
    return Caller(
        user_id=str(claims.get("sub") or ""), email=str(email) if email else None, roles=caller_roles(request_context)
    )


def caller_roles(request_context: dict[str, Any]) -> frozenset[str]:
    """Groups from the claims a REST API Cognito authorizer passes (`cognito:groups` arrives as a
    string, comma- or space-separated, sometimes in brackets; a list is accepted too)."""
    groups = _claims(request_context).get("cognito:groups") or ""
    if isinstance(groups, str):
        groups = groups.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in groups)


def require(request_context: dict[str, Any], allowed: Iterable[str]) -> None:
    if not caller_roles(request_context) & set(allowed):
        raise Forbidden("your role may not do this")
