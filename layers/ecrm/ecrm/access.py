"""Who may call which route, declared once: the topology puts these routes on the API (the Cognito
authorizer on every protected one), and one check at the HTTP edge enforces them
(`ecrm.api.build_resolver`, before the request is validated).

Two kinds of caller (decision 85):
- **Staff** sign in to the Cognito user pool and send its ID token; a route's `roles` name the
  groups that may call it, at its path (`/contacts/{contact_id}`).
- **Machine clients** (the shop, an integration) get an access token by OAuth2 client credentials;
  a route's `scopes` name the scopes that may call it, at its path below `MACHINE_PREFIX`
  (`/integrations/contacts/{contact_id}`). API Gateway's Cognito authorizer takes ID tokens on a
  method without scopes and access tokens only on a method with scopes, so one route is two
  methods: the same function, the same code, the same check here.

In AWS the Cognito authorizer proves who the caller is; which group or scope may do what is
decided here. Plain data and a few functions: every API function imports this module at cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecrm.names import Role, Scope

MACHINE_PREFIX = "/integrations"  # machine clients' copy of every route that names scopes
CLIENT_ACTOR = "client:"

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
# webhooks: endpoints receive personal events and hold signing secrets
WEBHOOK_ADMIN = (Role.ADMIN,)
# bulk import and export: contacts in (their consent included) and out by the thousand
CONTACT_IMPORT = (Role.ADMIN, Role.MARKETER)


@dataclass(frozen=True)
class Route:
    """One API route: its method, its API Gateway resource path (`{param}`), and who may call it.

    `roles`: Cognito groups of signed-in users, at `path`. `scopes` (`Scope`, short names): OAuth
    scopes of machine clients, at `MACHINE_PREFIX + path`. A route may name either or both.
    Neither: a public route (no authorizer; throttled and rate-limited by the WAF).
    """

    method: str
    path: str
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return not (self.roles or self.scopes)

    @property
    def machine_path(self) -> str:
        return MACHINE_PREFIX + self.path

    @property
    def api_paths(self) -> tuple[str, ...]:
        """The API resource paths this route is a method at: its path for staff (roles) or for
        everyone (public), its machine path for clients (scopes)."""
        own = (self.path,) if self.roles or self.public else ()
        return own + ((self.machine_path,) if self.scopes else ())


# Every API route, per function (the topology gives each function its tuple).
CONTACTS_CAPTURE = (
    Route("POST", "/contacts"),
    Route("GET", "/contacts/confirm"),
    Route("POST", "/contacts/confirm"),
)
CONTACTS_API = (
    Route("GET", "/contacts", CONTACT_READ, (Scope.CONTACTS_READ,)),
    Route("GET", "/contacts/{contact_id}", CONTACT_READ, (Scope.CONTACTS_READ,)),
    Route("PATCH", "/contacts/{contact_id}", CONTACT_EDIT, (Scope.CONTACTS_WRITE,)),
    Route("DELETE", "/contacts/{contact_id}", CONTACT_GDPR),
)
# contact 360: routes below the contacts' resources, served by its own function and stack
CONTACT360_API = (
    Route("GET", "/contacts/{contact_id}/timeline", CONTACT_READ),
    Route("GET", "/contacts/{contact_id}/related", CONTACT_READ),
    Route("GET", "/contacts/{contact_id}/export", CONTACT_GDPR),
    Route("POST", "/companies", CONTACT_EDIT),
    Route("GET", "/companies", CONTACT_READ),
    Route("GET", "/companies/{company_id}", CONTACT_READ),
    Route("PUT", "/companies/{company_id}", CONTACT_EDIT),
    Route("POST", "/companies/{company_id}/contacts", CONTACT_EDIT),
    Route("DELETE", "/companies/{company_id}/contacts/{contact_id}", CONTACT_EDIT),
)
CASES_FORM = (
    Route("POST", "/cases"),
    Route("GET", "/cases/csat"),
    Route("POST", "/cases/csat"),
)
CASES_API = (
    Route("GET", "/cases", CASE_READ),
    Route("POST", "/cases/agent", CASE_WORK),
    Route("GET", "/cases/{case_id}", CASE_READ),
    Route("PATCH", "/cases/{case_id}", CASE_WORK),
    Route("GET", "/cases/{case_id}/history", CASE_READ),
    Route("GET", "/cases/{case_id}/comments", CASE_READ),
    Route("POST", "/cases/{case_id}/comments", CASE_WORK),
    Route("POST", "/cases/{case_id}/solve", CASE_WORK),
    Route("POST", "/cases/{case_id}/reopen", CASE_WORK),
)
CASES_ADMIN = (
    Route("GET", "/cases/metrics", CASE_READ),
    Route("GET", "/cases/policies", CASE_READ),
    Route("PUT", "/cases/policies", CASE_ADMIN),
    Route("GET", "/cases/staff", CASE_ADMIN),
    Route("PUT", "/cases/staff", CASE_ADMIN),
)
CAMPAIGN_ACTIONS = ("schedule", "unschedule", "pause", "resume", "cancel")
CAMPAIGNS_API = (
    Route("GET", "/templates", CAMPAIGN_READ),
    Route("POST", "/templates", CAMPAIGN_EDIT),
    Route("GET", "/templates/{template_id}", CAMPAIGN_READ),
    Route("PUT", "/templates/{template_id}", CAMPAIGN_EDIT),
    Route("GET", "/templates/{template_id}/preview", CAMPAIGN_READ),
    Route("GET", "/segments", CAMPAIGN_READ),
    Route("POST", "/segments", CAMPAIGN_EDIT),
    Route("POST", "/segments/preview", CAMPAIGN_READ),
    Route("GET", "/segments/{segment_id}", CAMPAIGN_READ),
    Route("PUT", "/segments/{segment_id}", CAMPAIGN_EDIT),
    Route("GET", "/segments/{segment_id}/count", CAMPAIGN_READ),
    Route("GET", "/campaigns", CAMPAIGN_READ),
    Route("POST", "/campaigns", CAMPAIGN_EDIT),
    Route("GET", "/campaigns/{campaign_id}", CAMPAIGN_READ),
    Route("PUT", "/campaigns/{campaign_id}", CAMPAIGN_EDIT),
    Route("GET", "/campaigns/{campaign_id}/stats", CAMPAIGN_READ),
    *(Route("POST", f"/campaigns/{{campaign_id}}/{action}", CAMPAIGN_EDIT) for action in CAMPAIGN_ACTIONS),
)
CAMPAIGNS_UNSUBSCRIBE = (
    Route("GET", "/unsubscribe"),
    Route("POST", "/unsubscribe"),
    Route("GET", "/preferences"),
    Route("POST", "/preferences"),
)
MEMBER = "/loyalty/members/{member_id}"
LOYALTY_API = (
    Route("GET", MEMBER, LOYALTY_READ, (Scope.LOYALTY_READ,)),
    Route("GET", f"{MEMBER}/history", LOYALTY_READ, (Scope.LOYALTY_READ,)),
    Route("POST", f"{MEMBER}/redemptions", LOYALTY_REDEEM, (Scope.LOYALTY_REDEEM,)),
    Route("POST", f"{MEMBER}/adjustments", LOYALTY_ADJUST),
)
LOYALTY_PROGRAMME_API = (
    Route("GET", "/loyalty/programme", LOYALTY_READ),
    Route("PUT", "/loyalty/programme", LOYALTY_PROGRAMME),
)

WEBHOOK = "/webhooks/{endpoint_id}"
WEBHOOKS_API = (
    Route("POST", "/webhooks", WEBHOOK_ADMIN),
    Route("GET", "/webhooks", WEBHOOK_ADMIN),
    Route("GET", "/webhooks/types", WEBHOOK_ADMIN),
    Route("GET", WEBHOOK, WEBHOOK_ADMIN),
    Route("PUT", WEBHOOK, WEBHOOK_ADMIN),
    Route("DELETE", WEBHOOK, WEBHOOK_ADMIN),
    Route("POST", f"{WEBHOOK}/rotate", WEBHOOK_ADMIN),
    Route("GET", f"{WEBHOOK}/deliveries", WEBHOOK_ADMIN),
    Route("POST", f"{WEBHOOK}/deliveries/{{message_id}}/redeliver", WEBHOOK_ADMIN),
    Route("POST", f"{WEBHOOK}/replay", WEBHOOK_ADMIN),
)
# the shop's orders and refunds, as events on the bus: machine clients only
ORDERS_API = (
    Route("POST", "/orders", scopes=(Scope.ORDERS_WRITE,)),
    Route("POST", "/orders/{order_id}/refunds", scopes=(Scope.ORDERS_WRITE,)),
)

JOURNEY = "/journeys/{journey_id}"
JOURNEYS_API = (
    Route("POST", "/journeys", CAMPAIGN_EDIT),
    Route("GET", "/journeys", CAMPAIGN_READ),
    Route("GET", JOURNEY, CAMPAIGN_READ),
    Route("PUT", JOURNEY, CAMPAIGN_EDIT),
    Route("POST", f"{JOURNEY}/start", CAMPAIGN_EDIT),
    Route("POST", f"{JOURNEY}/pause", CAMPAIGN_EDIT),
    Route("POST", f"{JOURNEY}/resume", CAMPAIGN_EDIT),
    Route("POST", f"{JOURNEY}/stop", CAMPAIGN_EDIT),
    Route("GET", f"{JOURNEY}/stats", CAMPAIGN_READ),
    Route("GET", "/contacts/{contact_id}/journeys", CONTACT_READ),
)

IMPORT = "/imports/{import_id}"
IMPORTS_API = (
    Route("POST", "/imports", CONTACT_IMPORT, (Scope.CONTACTS_IMPORT,)),
    Route("GET", IMPORT, CONTACT_IMPORT, (Scope.CONTACTS_IMPORT,)),
    Route("POST", f"{IMPORT}/start", CONTACT_IMPORT, (Scope.CONTACTS_IMPORT,)),
    Route("POST", "/exports", CONTACT_IMPORT, (Scope.CONTACTS_EXPORT,)),
    Route("GET", "/exports/{export_id}", CONTACT_IMPORT, (Scope.CONTACTS_EXPORT,)),
)

ROUTES: Mapping[tuple[str, str], Route] = {
    (route.method, route.path): route
    for group in (
        CONTACTS_CAPTURE,
        CONTACTS_API,
        CONTACT360_API,
        CASES_FORM,
        CASES_API,
        CASES_ADMIN,
        CAMPAIGNS_API,
        CAMPAIGNS_UNSUBSCRIBE,
        LOYALTY_API,
        LOYALTY_PROGRAMME_API,
        WEBHOOKS_API,
        ORDERS_API,
        IMPORTS_API,
        JOURNEYS_API,
    )
    for route in group
}


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the authorizer's claims: a signed-in user (stable id `sub`, e-mail,
    roles) or a machine client (`client_id`, granted scopes; no e-mail, no roles)."""

    user_id: str
    email: str | None
    roles: frozenset[str]
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        """How events and timelines name this caller (ecrm.events.DomainEvent.actor)."""
        return f"{CLIENT_ACTOR}{self.client_id}" if self.client_id else user_actor(self.user_id)

    @property
    def recorded_as(self) -> str:
        """What an audit line stores for this caller: a user's id as it always has, a client as its
        actor (`client:<id>`); `as_actor` reads either back."""
        return self.actor if self.client_id else self.user_id


def user_actor(user_id: str) -> str:
    return f"user:{user_id}"


def as_actor(recorded: str) -> str:
    """The actor an audit line's `recorded_as` value stands for."""
    return recorded if recorded.startswith(CLIENT_ACTOR) else user_actor(recorded)


@dataclass(frozen=True)
class Refusal:
    """Why the edge turns a request away: 401 (identity not proven), 403 (no right to this route)."""

    status: int
    message: str
    allowed_roles: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ()


UNAUTHORIZED = Refusal(401, "Unauthorized")  # the words of API Gateway's authorizer
UNKNOWN_ROUTE = Refusal(403, "Missing Authentication Token")  # API Gateway's answer to an undeclared route


def refusal(
    method: str, resource: str, request_context: Mapping[str, Any], routes: Mapping[tuple[str, str], Route] = ROUTES
) -> Refusal | None:
    """None if the route's declaration lets this caller in, else why not.

    `resource` is the API Gateway resource path the request matched (`/cases/{case_id}`,
    `/integrations/orders`): the key the authorizer was attached by. An undeclared route is refused
    (fail closed), and so is a route at the path of a kind of caller it does not name (a role-only
    route below `MACHINE_PREFIX`, a scope-only route without it). A protected route needs claims
    naming a caller (`sub`): the Cognito authorizer always passes them, so their absence means the
    authorizer did not run. At a staff path the caller is a user with one of the route's roles; at
    a machine path, a client-credentials token with one of its scopes.
    """
    machine = is_machine_path(resource)
    route = routes.get((method, declared_path(resource)))
    if route is None or resource not in route.api_paths:
        return UNKNOWN_ROUTE
    if route.public:
        return None
    claims = _claims(request_context)
    if not claims.get("sub"):
        return UNAUTHORIZED
    return _client_refusal(route, claims) if machine else _user_refusal(route, claims, request_context)


def _client_refusal(route: Route, claims: Mapping[str, Any]) -> Refusal | None:
    if not _client_token(claims):
        return UNAUTHORIZED
    if granted_scopes(claims) & {Scope.full(scope) for scope in route.scopes}:
        return None
    return Refusal(403, "your client's scopes may not do this", allowed_scopes=route.scopes)


def _user_refusal(route: Route, claims: Mapping[str, Any], request_context: Mapping[str, Any]) -> Refusal | None:
    if claims.get("token_use") == "access":  # API Gateway takes ID tokens here; a check, not a trust
        return UNAUTHORIZED
    if caller_roles(request_context) & set(route.roles):
        return None
    return Refusal(403, "your role may not do this", route.roles)


def is_machine_path(resource: str) -> bool:
    return resource.startswith(MACHINE_PREFIX + "/")


def declared_path(resource: str) -> str:
    """The route's declared path for a resource at either kind of caller's path."""
    return resource[len(MACHINE_PREFIX) :] if is_machine_path(resource) else resource


def _client_token(claims: Mapping[str, Any]) -> bool:
    """An access token Cognito issued by client credentials: its subject is the client itself (a
    user's access token names the user, and carries `username`)."""
    return (
        claims.get("token_use") == "access"
        and bool(claims.get("client_id"))
        and claims.get("sub") == claims.get("client_id")
        and not claims.get("username")
    )


def granted_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """The token's `scope` claim (space-separated, as OAuth writes it)."""
    scope = claims.get("scope")
    return frozenset(str(scope).split()) if isinstance(scope, str) else frozenset()


def _claims(request_context: Mapping[str, Any]) -> dict[str, Any]:
    authorizer = request_context.get("authorizer")
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    return claims if isinstance(claims, dict) else {}


def caller(request_context: Mapping[str, Any]) -> Caller:
    claims = _claims(request_context)
    if _client_token(claims):
        client_id = str(claims["client_id"])
        return Caller(user_id="", email=None, roles=frozenset(), client_id=client_id, scopes=granted_scopes(claims))
    email = claims.get("email")
    return Caller(
        user_id=str(claims.get("sub") or ""), email=str(email) if email else None, roles=caller_roles(request_context)
    )


def caller_roles(request_context: Mapping[str, Any]) -> frozenset[str]:
    """Groups from the claims a REST API Cognito authorizer passes (`cognito:groups` arrives as a
    string, comma- or space-separated, sometimes in brackets; a list is accepted too)."""
    groups = _claims(request_context).get("cognito:groups") or ""
    if isinstance(groups, str):
        groups = groups.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in groups) if isinstance(groups, list | tuple) else frozenset()
