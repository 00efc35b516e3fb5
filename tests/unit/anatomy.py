"""The anatomy of a capability package (`layers/ecrm/ecrm/<capability>/`), as docs/platform.md
section 1 states it: one vocabulary of module names and port suffixes, read by the contract tests
(test_anatomy.py, test_domain_imports.py). Modules are read with `ast`, never imported.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "layers" / "ecrm"
PACKAGE = ROOT / "ecrm"

# Module names with one meaning in every capability. A capability's other modules are its own
# domain modules, named for what they hold (`sla.py`, `ledger.py`, `segments.py`).
DOMAIN_ROLES: dict[str, str] = {
    "models": "pydantic models: what the API accepts and answers, what is stored",
    "events": "the versioned DomainEvents the capability publishes (ids, no personal data)",
    "ports": "the Protocols the domain needs from the outside world",
    "service": "the services (use cases) the handlers call, and the bundles compose builds",
    "errors": "the capability's own exceptions",
    "pages": "the HTML documents a person sees (pure strings)",
    "settings": "each function's settings model, read from its environment",
    "names": "the capability's env-var, resource and detail-type names (plain constants)",
}
EDGE_ROLES: dict[str, str] = {
    "compose": "the composition root: settings and adapters in, whole services out",
    "routes": "HTTP route code: route registration, headers, Response shaping",
    "openapi": "OpenAPI declarations of the capability's routes (request bodies, responses)",
}
# A capability with a second HTTP function names its route code after it: `unsubscribe_routes`.
ROUTES_SUFFIX = "_routes"
ADAPTERS = "adapters"  # the subpackage of the capability's boto3 adapters
REQUIRED = ("models", "ports", "service", "settings", "names", "compose")
# Names that say nothing of what a module holds, or that meant three things at once.
VAGUE = frozenset({"web", "wiring", "bootstrap", "store", "utils", "util", "helpers", "common", "misc", "base", "core"})

# A port's name says what kind of thing it is, from this list.
PORT_SUFFIXES: dict[str, str] = {
    "Repository": "an aggregate's versioned store of record",
    "Store": "other state the domain keeps: records, counters, views, configuration",
    "Index": "a projection kept to answer queries",
    "Log": "append-only records",
    "Directory": "people (or things) found, or made, by id or address; often owned elsewhere",
    "Source": "the current value of something cached (the policy book in force)",
    "Queue": "work handed on for later",
    "Timers": "timers set and cancelled",
    "Clock": "the time",
    "Mailer": "mail sent",
    "Publisher": "events put on the bus",
    "Sender": "requests sent to other systems (webhook POSTs)",
    "Signer": "tokens signed and verified",
}
# Protocols that are no port (nothing outside the domain implements them), each with its reason.
NOT_PORTS: dict[str, str] = {
    "ecrm.campaigns.ratelimit.Sleeper": "how the sender waits: time.sleep, or the tests' clock",
    "ecrm.campaigns.sending.StageFinisher": "the runs service as the sender sees it: two domain services",
    "ecrm.webforms.FormSite": "the settings a public form route reads (the HTTP edge's)",
}


@cache
def capabilities() -> tuple[str, ...]:
    return tuple(
        sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != ADAPTERS)
    )


def is_edge(capability_dir: Path, path: Path) -> bool:
    """compose, routes (`*_routes`), openapi, and everything under the capability's adapters/."""
    parts = path.relative_to(capability_dir).parts
    if parts[0] == ADAPTERS:
        return True
    return path.stem in EDGE_ROLES or path.stem.endswith(ROUTES_SUFFIX)
