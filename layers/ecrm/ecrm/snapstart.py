"""Lambda SnapStart runtime hooks (decision 84): what must be made again in every execution
environment resumed from one snapshot, and what is worth doing once before the snapshot is taken.

With SnapStart (CDK context `snapStart`, API functions only) Lambda runs a function's init once per
published version, snapshots the memory, and resumes every new execution environment from that one
snapshot. Whatever init left in memory is therefore shared by every copy:
- `random`'s state: seeded once at import, every copy would draw the same jitter. Reseeded from
  `os.urandom` after each restore. (`uuid.uuid4` and `secrets` read `os.urandom` on every call:
  nothing to do for them.)
- boto3 sessions and clients, which hold credentials and open connections: boto3's default
  session is dropped and every `@cache`d function of the handler module Lambda loaded (the
  composition root `service()`, `settings()`) is cleared, so the first request of each copy builds
  its own clients, connection pools and `random.Random` instances.
Before the snapshot the registered preparations run (`before_snapshot`): the API functions load
every route module there (`EdgeResolver.load_all_routes`), so no copy pays for those imports.

`snapshot_restore_py` exists only in Lambda's Python runtimes (3.12 and later): elsewhere, and
when SnapStart is off, registering does nothing and nothing runs.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any

from pydantic import Field

from ecrm.names import Env
from ecrm.settings import FromEnv

HANDLER_ENV = Env.LAMBDA_HANDLER
_installed = False


class LambdaRuntime(FromEnv):
    """What Lambda's runtime sets in every function (not ours to configure): the handler it loaded."""

    handler: str = Field(default="", alias=HANDLER_ENV)


def handler_caches(handler: str | None = None) -> list[Any]:
    """Every `functools.cache`d function of the handler's module (`module.function`, as `_HANDLER`)."""
    name = handler if handler is not None else LambdaRuntime.from_env().handler
    module = sys.modules.get(name.rpartition(".")[0])
    if module is None:
        return []
    return [value for value in vars(module).values() if callable(getattr(value, "cache_clear", None))]


def after_restore() -> None:
    """What each copy must have of its own: fresh randomness, its own clients and credentials."""
    random.seed()  # from os.urandom
    if "boto3" in sys.modules:  # made by whoever imported it; never imported here for nothing
        import boto3

        boto3.DEFAULT_SESSION = None
    for cached in handler_caches():
        cached.cache_clear()


def before_snapshot(prepare: Callable[[], object]) -> bool:
    """Run `prepare` once before Lambda takes the snapshot; False where there is no SnapStart runtime."""
    hooks = _runtime_hooks()
    if hooks is None:
        return False
    hooks.register_before_snapshot(prepare)
    return True


def install() -> bool:
    """Register `after_restore` with Lambda's runtime (once); False where there is none."""
    global _installed
    hooks = _runtime_hooks()
    if hooks is None:
        return False
    if not _installed:
        hooks.register_after_restore(after_restore)
        _installed = True
    return True


def _runtime_hooks() -> Any:
    try:
        import snapshot_restore_py  # only in Lambda's runtime
    except ImportError:
        return None
    return snapshot_restore_py
