"""unit: `make bench` is not in the suite, so what it feeds the functions is checked here."""

import pytest
from ecrm_infra import topology

from tests.bench.run import ready_env


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda f: f.name)
def test_the_cold_start_bench_gives_every_function_settings_it_accepts(fn: topology.Function):
    env = ready_env(fn)
    settings = fn.settings.from_env(env)  # raises on a value the settings model refuses
    assert set(env) == {f.alias for f in fn.settings.model_fields.values() if f.alias}
    assert settings is not None
