"""infra tier: the CDK app synthesized once per session, assertions on the template's properties."""

from __future__ import annotations

import pytest

from tests.infra.synth import Synth, synthesize


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-default"))
