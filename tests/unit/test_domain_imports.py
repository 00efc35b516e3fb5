"""Contract: a capability's domain modules import no boto3/botocore, no adapter and no HTTP resolver.

Dependency direction (DESIGN.md): handler -> domain services -> ports (Protocols) <- adapters. Each
capability (a package under `ecrm/` other than `adapters`) holds its domain modules and its edge
(tests/unit/anatomy.py, docs/platform.md section 1):
- `compose.py`, the composition root: settings and adapters in, immutable services out;
- `routes.py` (`<function>_routes.py`) and `openapi.py`, the capability's HTTP edge;
- `adapters/`, its boto3 adapters.
Everything else in the package is domain. A domain module may not import, directly or through any
`ecrm` module it imports (followed transitively, imports under TYPE_CHECKING included):
boto3, botocore or their stubs; `ecrm.adapters.*` or any capability's `adapters`;
`aws_lambda_powertools.event_handler`; nor any capability's edge module. The modules are read with
`ast`, not imported: nothing runs, nothing is cached.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.unit.anatomy import ADAPTERS, EDGE_ROLES, PACKAGE, ROOT, ROUTES_SUFFIX, capabilities, is_edge

FORBIDDEN = ("boto3", "botocore", "mypy_boto3_", "ecrm.adapters", "aws_lambda_powertools.event_handler")

# Named exceptions: domain-side modules allowed a forbidden import, each with its reason. Keep short.
EXCEPTIONS: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imports_of(source: str, name: str, is_package: bool) -> set[str]:
    """Every module a source names in an import statement (`from a import b` gives a and a.b)."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


@cache
def direct_imports(name: str) -> frozenset[str]:
    path = module_path(name)
    if path is None:
        return frozenset()
    return frozenset(imports_of(path.read_text(), name, path.name == "__init__.py"))


def forbidden(imported: str, capability: str) -> bool:
    parts = imported.split(".")
    if len(parts) >= 3 and parts[0] == "ecrm" and parts[1] in capabilities():  # a capability's edge
        role = parts[2]
        if role == ADAPTERS or role in EDGE_ROLES or role.endswith(ROUTES_SUFFIX):
            return True
    return any(imported == f or imported.startswith(f if f.endswith("_") else f + ".") for f in FORBIDDEN)


def violations(name: str, capability: str) -> Iterator[list[str]]:
    """Import chains from `name` to a forbidden module, following `ecrm` modules transitively."""
    seen: set[str] = {name}
    stack: list[list[str]] = [[name]]
    while stack:
        chain = stack.pop()
        reported: list[str] = []
        for imported in sorted(direct_imports(chain[-1])):
            if forbidden(imported, capability):
                if not any(imported.startswith(r + ".") for r in reported):  # `from x import a, b`: x once
                    reported.append(imported)
                    yield [*chain, imported]
            elif imported.startswith("ecrm.") and imported not in seen and module_path(imported) is not None:
                seen.add(imported)
                stack.append([*chain, imported])


def domain_modules() -> list[tuple[str, str]]:
    return [
        (cap, module_name(path))
        for cap in capabilities()
        for path in sorted((PACKAGE / cap).rglob("*.py"))
        if not is_edge(PACKAGE / cap, path)
    ]


@pytest.mark.parametrize(("capability", "module"), domain_modules(), ids=lambda v: v)
def test_domain_module_imports_no_aws_sdk_adapter_or_http_resolver(capability: str, module: str):
    found = [" -> ".join(chain) for chain in violations(module, capability)]
    if module in EXCEPTIONS:
        assert found, f"{module} no longer needs its exception: remove it from EXCEPTIONS"
        return
    assert not found, f"{module} imports what a domain module may not:\n" + "\n".join(found)


def test_the_contract_sees_direct_relative_and_transitive_imports():
    assert forbidden("boto3", "loyalty") and forbidden("botocore.config", "loyalty")
    assert forbidden("mypy_boto3_dynamodb", "loyalty") and forbidden("ecrm.adapters.ses", "loyalty")
    assert forbidden("aws_lambda_powertools.event_handler.openapi.params", "loyalty")
    assert forbidden("ecrm.loyalty.compose", "loyalty")
    assert forbidden("ecrm.loyalty.adapters.dynamo_loyalty", "loyalty") and forbidden("ecrm.cases.adapters", "loyalty")
    assert forbidden("ecrm.cases.openapi", "loyalty") and forbidden("ecrm.campaigns.unsubscribe_routes", "campaigns")
    assert forbidden("ecrm.loyalty.routes", "loyalty") and not forbidden("ecrm.loyalty.rules", "loyalty")
    assert not forbidden("aws_lambda_powertools.metrics", "loyalty") and not forbidden("boto3x", "loyalty")
    relative = imports_of("from ..adapters import ses\nfrom . import compose", "ecrm.loyalty.rules", False)
    assert {"ecrm.adapters", "ecrm.adapters.ses", "ecrm.loyalty.compose"} <= relative
    # ecrm.api imports the resolver: a domain module importing ecrm.api breaks the contract through it.
    assert any(chain[-1].startswith("aws_lambda_powertools.event_handler") for chain in violations("ecrm.api", "x"))
