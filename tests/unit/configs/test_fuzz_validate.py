"""Fuzz: any JSON in any of the five config dicts gives a list of problems (each naming a
key, each once) and never an exception; the JSON editors refuse what they cannot parse in
words; a refused save stores nothing. Plus one regression test per config defect class."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.configs import CPU_ONLY, STORED_SECTIONS, validate
from studio.configs.defaults import default_dicts
from studio.configs.table import ALL_SCHEMAS, HYPER_FIELDS
from studio.errors import Problem
from studio.templates import TEMPLATES
from studio.ui.models.config_form import texts_to_dicts
from tests.unit.fuzz import FUZZ, deep, json_texts, json_values

TEMPLATE = TEMPLATES["smollm2-135m-lora"]
KEYS = sorted({k for schema in ALL_SCHEMAS.values() for k in schema} | {"lr_scheduler_kwargs"})
section_values = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=5
)


@pytest.fixture(scope="module")
def no_base(tmp_path_factory):
    """Settings whose base model config is not on disk: the LoRA construction is skipped,
    so examples stay fast; the scheduler is still constructed."""
    from studio.settings import Settings

    home = tmp_path_factory.mktemp("fuzz-home")
    settings = Settings.from_env(home=home, models_root=home / "models")
    dicts = default_dicts(TEMPLATE)
    dicts["trainer"]["lr_scheduler_kwargs"] = {}
    validate(TEMPLATE, {}, dicts, CPU_ONLY, settings=settings)  # imports, outside deadlines
    return settings


@FUZZ
@given(
    section=st.sampled_from(STORED_SECTIONS),
    values=section_values | json_values,
    hyper=st.dictionaries(st.sampled_from(sorted(HYPER_FIELDS)), json_values, max_size=3),
)
def test_any_json_in_any_dict_gives_problems_never_an_exception(no_base, section, values, hyper):
    dicts = default_dicts(TEMPLATE)
    dicts[section] = values
    problems = validate(TEMPLATE, hyper, dicts, CPU_ONLY, settings=no_base)
    assert isinstance(problems, list) and len(problems) == len(set(problems))
    assert all(isinstance(p, Problem) and p.message.strip() for p in problems)


@FUZZ
@given(texts=st.lists(json_texts(), min_size=6, max_size=6))
def test_json_editors_parse_or_say_why(texts):
    dicts, problems = texts_to_dicts(texts)
    assert set(dicts) == set(STORED_SECTIONS)
    for p in problems:
        assert p.key in STORED_SECTIONS and "not valid JSON" in p.message
        assert "Recursion" not in p.message and "set_int_max_str_digits" not in p.message


def test_editor_refuses_deep_nesting_and_non_finite_numbers_in_words():
    _, problems = texts_to_dicts(
        [deep(5000), '{"learning_rate": Infinity}', "{}", "{}", '{"x": NaN}', "{}"]
    )
    assert str(problems[0]).startswith("model: not valid JSON (nested deeper than")
    assert "Infinity is not a JSON number" in problems[1].message
    assert "NaN is not a JSON number" in problems[2].message


def _problems(section: str, no_base_settings=None, **values) -> list[str]:
    dicts = default_dicts(TEMPLATE)
    dicts[section].update(values)
    found = validate(TEMPLATE, {"valid_pct": 10.0}, dicts, CPU_ONLY, settings=no_base_settings)
    return [str(p) for p in found]


@pytest.mark.parametrize(
    "key", ["weight_decay", "max_grad_norm", "neftune_noise_alpha", "learning_rate", "warmup_steps"]
)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_by_the_range_check(no_base, key, bad):
    problems = _problems("trainer", no_base, **{key: bad})
    assert any(p.startswith(f"trainer.{key}: must be a finite number") for p in problems)


@pytest.mark.parametrize("key", ["valid_pct", "invalid_tolerance_pct", "lora_dropout"])
def test_non_finite_form_values_are_refused(no_base, key):
    problems = validate(
        TEMPLATE, {key: math.nan}, default_dicts(TEMPLATE), CPU_ONLY, settings=no_base
    )
    texts = [str(p) for p in problems]
    assert any("must be a finite number" in p or "got nan" in p for p in texts), problems


def test_a_nan_tolerance_never_opens_the_rejected_rows_gate():
    from studio.actions.start_training import version_problem
    from studio.configs.tolerance import rejected_share_problem

    version = {"n_rows": 10, "n_accepted": 1, "n_rejected": 9, "version": 1}
    assert version_problem(version, "d", math.nan)
    assert rejected_share_problem(10, 0, math.nan)  # even with nothing rejected


def test_scheduler_kwargs_are_checked_by_building_the_scheduler(no_base):
    bad = _problems("trainer", no_base, lr_scheduler_kwargs={"foo": 1})
    assert any(p.startswith("trainer.lr_scheduler_kwargs: the 'linear' schedule") for p in bad)
    ok = _problems(
        "trainer", no_base, lr_scheduler_type="cosine", lr_scheduler_kwargs={"num_cycles": 0.5}
    )
    assert not any("lr_scheduler_kwargs" in p for p in ok)


def test_lora_layers_and_targets_are_checked_against_the_base_config(settings, packaged_model_dir):
    problems = _problems("peft", settings, layers_to_transform=[99])
    assert any(p.startswith("peft.layers_to_transform: layer 99 does not exist") for p in problems)
    problems = _problems("peft", settings, target_modules=["nope_proj"])
    assert any(
        p.startswith("peft.target_modules: 'nope_proj' names no module of") and "q_proj" in p
        for p in problems
    )
    assert _problems("peft", settings, layers_to_transform=[0, 1]) == []


def test_model_revision_is_refused_not_ignored(no_base):
    problems = _problems("model", no_base, revision="main")
    assert any(p.startswith("model.revision: not allowed") for p in problems)


def test_a_refused_save_stores_nothing(store, settings):
    from studio.actions.ownership import Caller
    from studio.actions.save_model import save_model
    from studio.data.versions import create_version
    from studio.errors import ConfigError

    app = store.create_app("cfg")["id"]
    version, _ = create_version(store, settings, app, "d", [("d.txt", b"one\ntwo\n")])
    dicts = default_dicts(TEMPLATE)
    dicts["trainer"]["weight_decay"] = math.nan
    before = store.counts()
    with pytest.raises(ConfigError, match="finite number"):
        save_model(
            store,
            settings,
            Caller("local"),
            app,
            "m",
            TEMPLATE.key,
            "causal",
            version["id"],
            {},
            dicts,
            CPU_ONLY,
        )
    assert store.counts() == before


@pytest.mark.parametrize("schedule", ["cosine_with_min_lr", "warmup_stable_decay"])
def test_a_schedule_missing_its_options_fails_at_validate_not_at_train_start(no_base, schedule):
    problems = _problems("trainer", no_base, lr_scheduler_type=schedule)
    assert any(p.startswith("trainer.lr_scheduler_type: the") for p in problems)
    fixed = {
        "cosine_with_min_lr": {"min_lr_rate": 0.1},
        "warmup_stable_decay": {"num_decay_steps": 2},
    }[schedule]
    ok = _problems("trainer", no_base, lr_scheduler_type=schedule, lr_scheduler_kwargs=fixed)
    assert not any("lr_scheduler" in p for p in ok)
