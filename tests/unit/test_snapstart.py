"""unit: the SnapStart runtime hooks (ecrm.snapstart, decision 84). A restored copy must not share
randomness, boto3 sessions, clients or credentials with the snapshot it came from or its siblings;
before the snapshot, an API function loads every route module. Lambda's `snapshot_restore_py`
exists only in its runtime: here a module of the same name records what was registered with it."""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable
from types import ModuleType

import boto3
import pytest
from ecrm import snapstart
from ecrm.api import build_resolver
from ecrm_infra import topology

from tests.bench.run import ready_env

CONTACTS_API = next(fn for fn in topology.FUNCTIONS if fn.name == "contacts_api")


class RuntimeHooks(ModuleType):
    """Lambda's snapshot_restore_py as far as our code uses it: it keeps what was registered."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], object]] = []
        self.after: list[Callable[[], object]] = []

    def register_before_snapshot(self, func: Callable[[], object]) -> None:
        self.before.append(func)

    def register_after_restore(self, func: Callable[[], object]) -> None:
        self.after.append(func)


@pytest.fixture
def lambda_runtime(monkeypatch: pytest.MonkeyPatch) -> RuntimeHooks:
    hooks = RuntimeHooks()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", hooks)
    monkeypatch.setattr(snapstart, "_installed", False)
    return hooks


def test_without_lambdas_runtime_nothing_is_registered() -> None:
    assert "snapshot_restore_py" not in sys.modules
    assert snapstart.install() is False
    assert snapstart.before_snapshot(lambda: None) is False


def test_an_api_resolver_registers_the_restore_hook_once_and_loads_its_routes_before_the_snapshot(
    lambda_runtime: RuntimeHooks,
) -> None:
    app = build_resolver()
    build_resolver()
    app.routes_from("ecrm.contacts.api_routes", CONTACTS_API.routes, lambda: None)
    assert lambda_runtime.after == [snapstart.after_restore]
    assert len(lambda_runtime.before) == 2
    assert not any(m.loaded for m in app.route_modules)

    for prepare in reversed(lambda_runtime.before):  # Lambda runs them in reverse order of registration
        prepare()

    assert all(m.loaded for m in app.route_modules)


def test_after_restore_each_copy_draws_its_own_random_numbers() -> None:
    random.seed(14)  # the state a snapshot would hold: every copy would draw this sequence
    snapshot_draw = random.random()
    copies = []
    for _ in range(2):
        random.seed(14)
        snapstart.after_restore()
        copies.append(random.random())
    assert snapshot_draw not in copies
    assert copies[0] != copies[1]


def test_after_restore_the_handler_builds_new_clients_and_boto3_forgets_its_default_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ready_env(CONTACTS_API).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(snapstart.HANDLER_ENV, CONTACTS_API.handler)
    handler = importlib.import_module(f"{CONTACTS_API.name}.handler")
    handler.service.cache_clear()
    before = handler.service()
    assert handler.service() is before  # cached for the life of the copy
    boto3.setup_default_session(region_name="us-east-1")
    old_session = boto3.DEFAULT_SESSION

    snapstart.after_restore()

    assert boto3.DEFAULT_SESSION is None
    after = handler.service()
    assert after is not before
    assert _clients(before) and _clients(after)
    assert _clients(after).isdisjoint(_clients(before))  # new clients: new connection pools, credentials
    boto3.setup_default_session(region_name="us-east-1")
    assert boto3.DEFAULT_SESSION is not old_session
    handler.service.cache_clear()


def _clients(bundle: object, depth: int = 3) -> set[int]:
    """ids of the botocore clients reachable from `bundle`'s attributes."""
    found: set[int] = set()
    for value in vars(bundle).values() if hasattr(bundle, "__dict__") else ():
        if hasattr(value, "_endpoint") and hasattr(value, "meta"):
            found.add(id(value))
        elif depth and hasattr(value, "__dict__"):
            found |= _clients(value, depth - 1)
    return found


def test_the_restore_hook_clears_only_the_loaded_handlers_caches() -> None:
    assert snapstart.handler_caches("no_such_function.handler.lambda_handler") == []
    handler = importlib.import_module(f"{CONTACTS_API.name}.handler")
    assert handler.service in snapstart.handler_caches(CONTACTS_API.handler)
