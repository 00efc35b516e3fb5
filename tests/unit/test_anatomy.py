"""Contract: every capability has the same anatomy and vocabulary (docs/platform.md, section 1).

The vocabulary is tests/unit/anatomy.py: module names with one meaning in every capability, an
`adapters/` subpackage that only composition roots import, settings and names that live with their
capability, and port Protocols named with a suffix from one short list. Modules are read with `ast`.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from ecrm import names as platform_names
from ecrm import settings as platform_settings
from ecrm_infra import topology

from tests.unit.anatomy import (
    ADAPTERS,
    DOMAIN_ROLES,
    EDGE_ROLES,
    NOT_PORTS,
    PACKAGE,
    PORT_SUFFIXES,
    REQUIRED,
    ROOT,
    VAGUE,
    capabilities,
    is_edge,
)

NAME_CLASSES = ("Env", "Resource", "DetailType")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names a module imports (`from a import b` gives a and a.b); the layer uses no relative imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def capability_adapter_imports(path: Path) -> set[str]:
    return {
        m
        for m in imported_modules(path)
        if (p := m.split(".")) and len(p) >= 3 and p[1] in capabilities() and p[2] == ADAPTERS
    }


def test_the_capabilities_are_the_topologys():
    declared = {c.name.lower() for c in topology.CAPABILITIES} - {"events"}  # Events: the platform's relay
    assert (
        set(capabilities())
        == declared
        == {
            "campaigns",
            "cases",
            "contact360",
            "contacts",
            "imports",
            "journeys",
            "loyalty",
            "orders",
            "webhooks",
        }
    )


@pytest.mark.parametrize("capability", capabilities())
def test_a_capability_has_the_modules_every_capability_has(capability: str):
    folder = PACKAGE / capability
    missing = [role for role in REQUIRED if not (folder / f"{role}.py").is_file()]
    assert not missing, f"ecrm.{capability} has no {', '.join(m + '.py' for m in missing)}"
    assert (folder / ADAPTERS / "__init__.py").is_file(), f"ecrm.{capability} has no adapters/ package"


@pytest.mark.parametrize("capability", capabilities())
def test_module_names_say_what_the_module_is(capability: str):
    folder = PACKAGE / capability
    vague = [p.name for p in folder.rglob("*.py") if p.stem in VAGUE]
    assert not vague, f"ecrm.{capability}: {vague} say nothing of what they hold; see tests/unit/anatomy.py"
    # a role name is a module, never a package (one place to look), and adapters/ is the one subpackage
    packages = [p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert packages == [ADAPTERS]
    roles = set(DOMAIN_ROLES) | set(EDGE_ROLES)
    assert not [p for p in (folder / ADAPTERS).glob("*.py") if p.stem in roles], "adapters/ holds adapters only"


def test_the_generic_adapters_know_no_capability():
    """ecrm/adapters/ holds what any capability may use; a capability's own adapters live in it."""
    for path in sorted((PACKAGE / ADAPTERS).glob("*.py")):
        own = sorted(m for m in imported_modules(path) if m.split(".")[1:2] and m.split(".")[1] in capabilities())
        assert not own, f"{module_name(path)} imports {own}: it belongs in that capability's adapters/"


def test_only_composition_roots_and_adapters_import_a_capabilitys_adapters():
    offenders = {
        module_name(path): sorted(found)
        for path in layer_modules()
        if (found := capability_adapter_imports(path))
        and path.stem != "compose"
        and ADAPTERS not in path.relative_to(PACKAGE).parts
    }
    assert not offenders, f"only compose.py (and other adapters) may import a capability's adapters: {offenders}"


def test_functions_reach_adapters_through_compose_only():
    functions = sorted((ROOT.parents[1] / "functions").glob("*/handler.py"))
    assert functions
    offenders = {str(p.parent.name): sorted(f) for p in functions if (f := capability_adapter_imports(p))}
    assert not offenders, f"handlers call compose, not adapters: {offenders}"


def test_every_handler_pauses_the_collector_while_it_loads():
    """decision 104: `from ecrm import coldstart` before any other import, `coldstart.loaded()` last."""
    functions = sorted((ROOT.parents[1] / "functions").glob("*/handler.py"))
    offenders = []
    for path in functions:
        body = [n for n in ast.parse(path.read_text()).body if not _docstring_or_future(n)]
        first, last = body[0], body[-1]
        first_ok = isinstance(first, ast.ImportFrom) and first.module == "ecrm" and first.names[0].name == "coldstart"
        last_ok = isinstance(last, ast.Expr) and ast.unparse(last) == "coldstart.loaded()"
        if not (first_ok and last_ok):
            offenders.append(path.parent.name)
    assert functions and not offenders, f"handlers that do not pause the collector while they load: {offenders}"


def _docstring_or_future(node: ast.stmt) -> bool:
    docstring = (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    )
    return docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__")


def test_each_function_reads_the_settings_of_its_own_capability():
    for capability in topology.CAPABILITIES:
        home = f"ecrm.{capability.name.lower()}.settings" if capability.name != "Events" else "ecrm.settings"
        for fn in capability.functions:
            assert fn.settings.__module__ == home, f"{fn.name}: {fn.settings.__name__} belongs in {home}"
            assert issubclass(fn.settings, platform_settings.FromEnv)


def test_the_shared_settings_hold_the_base_and_the_platforms_only():
    defined = {n for n, v in vars(platform_settings).items() if isinstance(v, type) and v.__module__ == "ecrm.settings"}
    platform_functions = {
        fn.settings.__name__ for c in topology.CAPABILITIES if c.name == "Events" for fn in c.functions
    }
    assert defined == {"FromEnv"} | platform_functions


def _constants(cls: type) -> dict[str, str]:
    return {k: v for k, v in vars(cls).items() if k.isupper()}


def test_capability_names_extend_the_platforms_and_never_redefine_one():
    seen: dict[str, dict[str, str]] = {c: {**_constants(getattr(platform_names, c))} for c in NAME_CLASSES}
    for capability in capabilities():
        module = importlib.import_module(f"ecrm.{capability}.names")
        for cls_name in NAME_CLASSES:
            cls = getattr(module, cls_name, None)
            if cls is None:
                continue
            base = getattr(platform_names, cls_name)
            assert cls.__bases__ == (base,), f"ecrm.{capability}.names.{cls_name} extends ecrm.names.{cls_name}"
            own = _constants(cls)
            assert not set(own) & set(seen[cls_name]), f"ecrm.{capability}.names.{cls_name} redefines a name"
            # one process runs every function locally: no two names may share a value
            clash = set(own.values()) & set(seen[cls_name].values())
            assert not clash, f"ecrm.{capability}.names.{cls_name}: {clash} already taken"
            seen[cls_name].update(own)


def _is_protocol_base(base: ast.expr) -> bool:
    """`Protocol` or `Protocol[T]` (a Protocol that extends another names Protocol too)."""
    if isinstance(base, ast.Subscript):
        base = base.value
    return isinstance(base, ast.Name) and base.id == "Protocol"


def _protocols(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef) and any(map(_is_protocol_base, n.bases))]


def port_protocols() -> list[str]:
    """Every Protocol of the layer outside the capabilities' edges (whose Protocols are no ports)."""
    found = []
    for path in layer_modules():
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in capabilities() and is_edge(PACKAGE / parts[0], path):
            continue
        found += [f"{module_name(path)}.{name}" for name in _protocols(path)]
    return found


def test_port_names_end_with_a_suffix_from_the_list():
    ports = port_protocols()
    assert "ecrm.cases.ports.CaseRepository" in ports and "ecrm.campaigns.ports.Repository" in ports
    assert "ecrm.clock.MovableClock" in ports  # a Protocol extending another is found too
    unnamed = [p for p in ports if p not in NOT_PORTS and not p.endswith(tuple(PORT_SUFFIXES))]
    assert not unnamed, f"name each port for what it is, ending with one of {sorted(PORT_SUFFIXES)}: {unnamed}"
    assert set(NOT_PORTS) <= set(ports), "a NOT_PORTS entry names no Protocol: remove it"


def test_a_capabilitys_ports_are_declared_in_its_ports_module():
    """One place to read what a capability needs from the outside world."""
    elsewhere = [
        p
        for p in port_protocols()
        if p not in NOT_PORTS and (parts := p.split("."))[1] in capabilities() and parts[2] != "ports"
    ]
    assert not elsewhere, f"declare these in their capability's ports.py: {elsewhere}"
