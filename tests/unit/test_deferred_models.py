"""unit: every pydantic model of `ecrm` derives from `ecrm.model.Model`, whose config defers the
build of its validator to its first use (decision 92): a function's cold start builds none of the
models its modules declare but its request does not use. And a function's ready loads only the
adapters it uses (decision 93)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ecrm
import ecrm.model
import pytest
from ecrm.model import Model
from ecrm_infra import topology
from pydantic import BaseModel, ValidationError

from tests.bench.run import ENV, ready_env


def _subclasses(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ecrm_models() -> set[type[BaseModel]]:
    for info in pkgutil.walk_packages(ecrm.__path__, "ecrm."):
        importlib.import_module(info.name)
    return {c for c in _subclasses(BaseModel) if c.__module__.startswith("ecrm.")}


def test_every_model_derives_from_the_shared_base_and_defers_its_build() -> None:
    models = _ecrm_models()
    assert len(models) > 100  # the walk found the capabilities' models, not only the platform's
    strays = sorted(f"{m.__module__}.{m.__qualname__}" for m in models if not issubclass(m, Model))
    assert strays == []
    undeferred = sorted(f"{m.__module__}.{m.__qualname__}" for m in models if not m.model_config.get("defer_build"))
    assert undeferred == []  # a model's own model_config merges with the base's, it cannot drop it


def test_a_deferred_model_still_names_the_field_it_refuses_on_first_use() -> None:
    class Probe(Model):
        count: int

    assert not Probe.__pydantic_complete__
    with pytest.raises(ValidationError) as refused:
        Probe.model_validate({"count": "many"})
    assert [e["loc"] for e in refused.value.errors()] == [("count",)]
    assert Probe.__pydantic_complete__


_BUILT_AT_READY = """
import json, os
os.environ.update({env})
import {name}.handler as h
import boto3.session
sessions = []
made = boto3.session.Session.__init__
def counted(self, *args, **kwargs):
    sessions.append(self)
    made(self, *args, **kwargs)
boto3.session.Session.__init__ = counted
clients = []
client = boto3.session.Session.client
def recorded(self, service, *args, **kwargs):
    clients.append(service)
    return client(self, service, *args, **kwargs)
boto3.session.Session.client = recorded
h.service()
from pydantic import BaseModel
def walk(c):
    for s in c.__subclasses__():
        yield s
        yield from walk(s)
models = [c for c in walk(BaseModel) if c.__module__.startswith("ecrm.")]
import sys
print(json.dumps([len(models), sum(c.__pydantic_complete__ for c in models), "ecrm.adapters.ses" in sys.modules,
                  len(sessions), sorted(set(clients))]))
"""


@pytest.mark.parametrize(
    ("name", "mails"), [("cases_api", False), ("campaign_sender", True), ("campaign_feedback", False)]
)
def test_a_function_made_ready_builds_few_of_the_models_it_imported(name: str, mails: bool) -> None:
    fn = next(f for f in topology.FUNCTIONS if f.name == name)
    code = _BUILT_AT_READY.format(env=json.dumps(ready_env(fn)), name=name)
    out = subprocess.run([sys.executable, "-c", code], env=ENV, check=True, capture_output=True, text=True)
    imported, built, ses_loaded, sessions, clients = json.loads(out.stdout)
    # built at ready: its settings and the defaults instantiated at import (a policy, a counter)
    assert imported > 50
    assert built <= 8
    # the SES adapter (and the e-mail package under it) comes in with the builder of a function
    # that mails, not with its capability's composition module (decision 93)
    assert ses_loaded is mails
    # one boto3 session per composition root: each session loads boto3's models afresh
    assert sessions == 1
    # and only the DynamoDB client made at cold start: SQS, Scheduler and SES on first use
    assert clients == ["dynamodb"]


def test_type_adapters_are_made_by_the_shared_deferred_helper() -> None:
    layer = Path(ecrm.__file__).parent
    made_here = sorted(
        str(path.relative_to(layer))
        for path in layer.rglob("*.py")
        if path.name != "model.py" and "TypeAdapter(" in path.read_text()
    )
    assert made_here == []  # ecrm.model.adapter(tp), deferred like the models
    assert ecrm.model.adapter(int).validate_python("3") == 3
