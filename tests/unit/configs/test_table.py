"""The settings table is the one source of every run setting's default and home: the form's,
the headless run's and the trainer's defaults cannot disagree, and nothing is stored twice."""

from __future__ import annotations

import dataclasses

import pytest

from studio.configs import CPU_ONLY, Hardware, TrainRun
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.saving import model_config, split_config
from studio.configs.setting import SAME
from studio.configs.table import (
    FORM,
    SETTINGS,
    STORED_SECTIONS,
    STUDIO,
    STUDIO_SCHEMA,
    StudioSettings,
    form_defaults,
    run_defaults,
)
from studio.templates import TEMPLATES, Template
from studio.vocab.models import TOKENIZER_DEFAULTS

GPU = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80, gpu_count=2)
# A template that overrides nothing: its form starts at the table's defaults.
BARE = Template(
    key="bare",
    title="Bare",
    description="",
    model_type="causal",
    method="lora",
    base_model="some/model",
    peft={"bias": "none"},
)


def _rows():
    return list(SETTINGS.values())


def test_every_setting_has_one_name_and_one_home():
    rows = _rows()
    assert len({r.name for r in rows}) == len(rows)
    homes = [(r.section, k) for r in rows for k in r.keys]
    assert len(homes) == len(set(homes)), "a key is the home of two settings"
    assert not set(TOKENIZER_DEFAULTS) & {r.key for r in FORM if r.section == "tokenizer"}


def test_the_studio_section_type_has_a_field_per_row():
    assert [f.name for f in dataclasses.fields(StudioSettings)] == list(STUDIO_SCHEMA)
    assert StudioSettings.from_dict({}).to_dict() == run_defaults(STUDIO)


@pytest.mark.parametrize("hardware", [CPU_ONLY, GPU])
def test_form_headless_and_trainer_defaults_agree_except_where_the_table_says_why(
    tmp_path, hardware
):
    train = tmp_path / "train.jsonl"
    train.write_text('{"instruction": "q", "output": "a"}\n')
    common = {"model_type": "causal", "method": "lora", "data": {"train": str(train)}}
    # The page's path: the form's defaults written into the sections, as a run reads them.
    page_sections = default_dicts(BARE, hardware=hardware)
    page = TrainRun.from_dict({**common, **page_sections, "base_model": "some/model"})
    # The headless path: a run config that states nothing.
    headless = TrainRun.from_dict({**common, "base_model": "some/model", "peft": {"r": 8}})
    differ = {r.name for r in FORM if r.page is not SAME and r.page_default(hardware) != r.default}
    for row in FORM:
        if row.section == "model":
            continue  # the base model is the template's
        section = row.section
        got_page = row.load(getattr(page, section) if section != STUDIO else page.studio.to_dict())
        got_headless = row.load(
            getattr(headless, section) if section != STUDIO else headless.studio.to_dict()
        )
        if row.name in differ:
            assert got_page != got_headless and row.why, row.name
        else:
            assert got_page == got_headless == row.default, row.name
    assert form_defaults(hardware) == default_hyper(BARE, hardware) | {"base_model": ""}


def test_the_trainer_and_a_run_config_fill_the_same_defaults(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("{}\n")
    run = TrainRun.from_dict(
        {"model_type": "causal", "method": "full", "base_model": "m", "data": {"train": str(train)}}
    )
    assert run.trainer == run_defaults("trainer")
    assert run.tokenizer == run_defaults("tokenizer")
    assert run.studio == StudioSettings.from_dict({})
    assert run.trainer["num_train_epochs"] == SETTINGS["epochs"].default == 3.0


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_a_saved_model_stores_each_setting_once_and_the_form_is_derived(key):
    template = TEMPLATES[key]
    hyper = default_hyper(template)
    if key == "custom":
        hyper["base_model"] = "someone/model"
    config = model_config(default_dicts(template), hyper)
    assert set(config) == set(STORED_SECTIONS), "only the six sections are stored"
    _, form = split_config(config, key)
    for row in FORM:
        if row.adapter_only and not config["peft"]:
            continue
        assert form[row.name] == hyper[row.name], row.name


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_a_template_states_each_form_setting_once(key):
    template = TEMPLATES[key]
    dicts = {
        "model": template.model,
        "quantization": template.quantization,
        "peft": template.peft,
        "tokenizer": template.tokenizer,
        "trainer": template.trainer,
    }
    for row in FORM:
        if row.write is None and row.section in dicts:
            assert row.key not in dicts[row.section], (
                f"{key}: {row.section}.{row.key} is the form's {row.name!r}: state it in "
                "`hyper` only"
            )


def test_the_training_code_has_no_defaults_of_its_own():
    """A setting's default is the table's: the training process and the scoring it shares
    read TrainRun's filled-in sections, never `.get("<setting>", <a default of its own>)`."""
    import ast
    from pathlib import Path

    studio = Path(__file__).resolve().parents[3] / "studio"
    keys = {r.key for r in SETTINGS.values() if r.key}
    found = []
    for path in [*(studio / "train").glob("*.py"), *(studio / "scoring").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in keys
                and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)
                and ast.unparse(node.func.value) != "logs"  # the Trainer's log record
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert found == [], found
