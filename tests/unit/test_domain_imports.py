"""Contract: a capability's domain modules import no boto3/botocore, no adapter and no HTTP resolver.

Dependency direction (DESIGN.md): handler -> domain services -> ports <- adapters. Each capability
(a package under `ecrm/` other than `adapters`) holds its domain modules and two edge modules:
- `compose.py`, the composition root: settings and adapters in, immutable services out;
- `openapi.py` and `routes.py` (`unsubscribe_routes.py`), the capability's HTTP edge: OpenAPI
  descriptions, route registration and Response shaping for its handlers.
Everything else in the package is domain. A domain module may not import, directly or through any
`ecrm` module it imports (followed transitively, imports under TYPE_CHECKING included):
boto3, botocore or their stubs; `ecrm.adapters.*`; `aws_lambda_powertools.event_handler`; nor a
composition root. The modules are read with `ast`, not imported: nothing runs, nothing is cached.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "layers" / "ecrm"
PACKAGE = ROOT / "ecrm"
EDGE_MODULES = frozenset({"compose", "openapi", "routes", "unsubscribe_routes"})
FORBIDDEN = ("boto3", "botocore", "mypy_boto3_", "ecrm.adapters", "aws_lambda_powertools.event_handler")

# Named exceptions: domain-side modules allowed a forbidden import, each with its reason. Keep short.
EXCEPTIONS: dict[str, str] = {}


def capabilities() -> list[str]:
    return sorted(
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "adapters"
    )


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
    if imported.startswith(f"ecrm.{capability}.") and imported.rpartition(".")[2] == "compose":
        return True
    parts = imported.split(".")
    if len(parts) >= 3 and parts[0] == "ecrm" and parts[2] == "adapters":  # a capability's own adapters
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
        if path.stem not in EDGE_MODULES and "adapters" not in path.relative_to(PACKAGE / cap).parts
    ]


def test_every_capability_has_one_composition_root_named_compose():
    assert capabilities() == ["campaigns", "cases", "contacts", "loyalty"]
    for cap in capabilities():
        assert (PACKAGE / cap / "compose.py").exists(), f"ecrm.{cap} has no compose.py"
        assert not (PACKAGE / cap / "wiring.py").exists(), "one name for the composition root: compose.py"


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
    assert not forbidden("aws_lambda_powertools.metrics", "loyalty") and not forbidden("boto3x", "loyalty")
    relative = imports_of("from ..adapters import ses\nfrom . import compose", "ecrm.loyalty.rules", False)
    assert {"ecrm.adapters", "ecrm.adapters.ses", "ecrm.loyalty.compose"} <= relative
    # ecrm.api imports the resolver: a domain module importing ecrm.api breaks the contract through it.
    assert any(chain[-1].startswith("aws_lambda_powertools.event_handler") for chain in violations("ecrm.api", "x"))
