"""integration tier: handlers in-process under moto (mock_aws), driven by real-shaped events."""

import io
import logging
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


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every Logger line, formatted as in Lambda (the Logger's own stream is whatever stdout was
    when it was first imported, which pytest's capsys does not see)."""
    from ecrm.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    base = logging.getLogger(logger.name)
    base.addHandler(handler)
    yield stream
    base.removeHandler(handler)
