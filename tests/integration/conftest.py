"""integration tier: handlers in-process under moto (mock_aws), driven by real-shaped events."""

from collections.abc import Iterator

import pytest

from tests.integration.campaigns_support import Campaigns, campaigns_stack
from tests.support import Stack, moto_stack


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack() as s:
        yield s


@pytest.fixture
def campaigns() -> Iterator[Campaigns]:
    with campaigns_stack() as c:
        yield c
