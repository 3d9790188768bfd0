"""Fixtures for generation tests: a tuned run (tiny Llama + perturbed LoRA) and an engine."""

from __future__ import annotations

import pytest

from tests.unit.generate.tuned import add_succeeded_job, build_run_dir


@pytest.fixture(scope="session")
def tuned_run_dir(tiny_causal_dir, tmp_path_factory):
    return build_run_dir(tmp_path_factory.mktemp("tuned-run"), tiny_causal_dir)


@pytest.fixture
def tuned_job(store, tuned_run_dir):
    """(app_id, job_id) of a succeeded train job with a perturbed adapter."""
    return add_succeeded_job(store, tuned_run_dir)


@pytest.fixture
def engine(settings, store):
    from studio.generate.engine import Engine

    return Engine(settings, store)
