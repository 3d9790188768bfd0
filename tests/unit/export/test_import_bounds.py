"""An imported adapter is refused, with the field named, before anything is stored, unless
it is a LoRA adapter whose every size fits its base: one case per refused field.

The adapter is a real export of a LoRA trained on the tiny test model (hidden 64, 2 layers,
q_proj and v_proj); each case rewrites one field of its adapter_config.json (or one tensor of
its weights) the way a hostile zip would."""

from __future__ import annotations

import json
import zipfile

import pytest

from studio.errors import ImportRefused
from studio.export.importer import import_adapter_zip

TENSOR = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_causal_dir):
    """(the export's members, the tiny base's folder): a zip the studio would import."""
    from studio.settings import Settings
    from studio.store import Store
    from tests.support.trained import make_trained_run

    home = tmp_path_factory.mktemp("bounds")
    settings = Settings.from_env(home=home / "home", port=0)
    settings.ensure_dirs()
    store = Store(settings.db_path, files_root=settings.apps_dir)
    run = make_trained_run(store, settings, tiny_causal_dir)
    adapter = run["run_dir"] / "adapter"
    members = {
        p.name: p.read_bytes()
        for p in adapter.iterdir()
        if p.is_file() and p.suffix in (".json", ".safetensors", ".jinja", ".txt")
    }
    return members, str(tiny_causal_dir)


def _zip(path, members: dict, config: dict | None = None, tensors: dict | None = None):
    members = dict(members)
    if config is not None:
        members["adapter_config.json"] = json.dumps(config)
    if tensors is not None:
        from safetensors.torch import save

        members["adapter_model.safetensors"] = save(tensors)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _config(exported) -> dict:
    return json.loads(exported[0]["adapter_config.json"])


def _tensors(exported) -> dict:
    from safetensors.torch import load

    return load(exported[0]["adapter_model.safetensors"])


def _refused(store, settings, path, base: str, match: str) -> None:
    app = store.create_app(f"imports {len(store.list_apps())}")["id"]
    with pytest.raises(ImportRefused, match=match):
        import_adapter_zip(store, settings, app, path, confirmed_base=base)
    assert store.list_jobs(app_id=app) == []  # nothing stored
    assert not list(settings.tmp_dir.iterdir())  # nothing left behind
    assert not (settings.app_dir(app) / "runs").exists()


def test_the_untouched_export_imports(tmp_path, settings, store, exported):
    app = store.create_app("imports")["id"]
    path = _zip(tmp_path / "ok.zip", exported[0])
    job = import_adapter_zip(store, settings, app, path, confirmed_base=exported[1])
    assert job["status"] == "succeeded"


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        # Another adapter type: prompt tuning allocated 2.7 GB by num_virtual_tokens.
        (
            {"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 1_000_000},
            "only LoRA adapters",
        ),
        ({"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 1_000_000}, "only LoRA"),
        ({"peft_type": None}, "only LoRA"),
        # Copies of the layers run on every token.
        ({"layer_replication": [[0, 2]] * 20}, "layer_replication"),
        ({"lora_alpha": "evil"}, "lora_alpha must be a number"),
        ({"lora_alpha": 1e308}, "lora_alpha must be a number"),
        ({"lora_alpha": 0}, "lora_alpha must be a number"),
        ({"alpha_pattern": {"q_proj": 1e300}}, r"alpha_pattern\['q_proj'\]"),
        ({"task_type": "SEQ_2_SEQ_LM"}, "task_type is 'SEQ_2_SEQ_LM'.*causal model"),
        ({"task_type": None}, "task_type"),
        ({"r": 1024}, "the weights of .* have rank 4"),
        ({"r": 4096}, "r must be a whole number from 1 to 1024"),
        ({"rank_pattern": {"q_proj": 100000}}, r"rank_pattern\['q_proj'\]"),
        ({"lora_dropout": 7}, "lora_dropout"),
        # Full copies beyond what was trained; names the base does not have.
        ({"modules_to_save": ["lm_head"]}, "makes 1 tensor.*the file does not hold"),
        ({"modules_to_save": ["no_such_module"]}, "modules_to_save names 'no_such_module'"),
        ({"modules_to_save": ["lm_head"] * 9}, "modules_to_save lists 9 names"),
        # More layers than the file holds weights for (r=4 everywhere: all allocated).
        ({"target_modules": "all-linear"}, "makes .* tensor.*the file does not hold"),
        ({"target_modules": ["q_proj", "v_proj", "k_proj"]}, "the file does not hold"),
        ({"target_modules": ["q_proj"] * 10_000}, "target_modules lists 10000 names"),
        ({"target_modules": ["q_proj", "q_proj"]}, "more than once"),
        ({"target_modules": ".*(a+)+$"}, "target_modules is a pattern"),
        ({"target_modules": ["wq"]}, "target_modules names 'wq'"),
        ({"layers_to_transform": [0, 9]}, "layers_to_transform must be a whole number from 0"),
        # Settings the studio does not check must stay at PEFT's defaults.
        ({"init_lora_weights": "pissa"}, "init_lora_weights"),
        ({"trainable_token_indices": [1, 2, 3]}, "trainable_token_indices"),
        ({"megatron_core": "os"}, "megatron_core"),
        ({"use_qalora": True}, "use_qalora"),
        ({"target_parameters": ["mlp.experts"]}, "target_parameters"),
        ({"a_setting_from_elsewhere": 5}, "a_setting_from_elsewhere"),
        ({"base_model_name_or_path": "x" * 10_000}, "base_model_name_or_path"),
    ],
)
def test_refused_config_field(tmp_path, settings, store, exported, changes, match):
    config = {**_config(exported), **changes}
    path = _zip(tmp_path / "bad.zip", exported[0], config=config)
    _refused(store, settings, path, exported[1], match)


def test_refused_tensors(tmp_path, settings, store, exported):
    import torch

    good = _tensors(exported)
    cases = {
        "stranger": ({**good, "base_model.model.model.norm.weight": torch.zeros(64)}, "norm"),
        "missing": ({k: v for k, v in good.items() if k != TENSOR}, "but no lora_A"),
        "too wide": ({**good, TENSOR: torch.zeros(4, 100_000)}, r"maps 100000 ->|features"),
    }
    for name, (tensors, match) in cases.items():
        path = _zip(tmp_path / f"{name}.zip", exported[0], tensors=tensors)
        _refused(store, settings, path, exported[1], match)


def test_saved_modules_must_match_the_base(tmp_path, settings, store, exported):
    """modules_to_save is accepted for modules the base has, with the base's exact shapes."""
    import torch

    config = {**_config(exported), "modules_to_save": ["norm"]}
    tensors = {**_tensors(exported), "base_model.model.model.norm.weight": torch.ones(64)}
    path = _zip(tmp_path / "saved.zip", exported[0], config=config, tensors=tensors)
    app = store.create_app("imports")["id"]
    assert import_adapter_zip(store, settings, app, path, exported[1])["status"] == "succeeded"
    tensors["base_model.model.model.norm.weight"] = torch.ones(10_000_000)
    path = _zip(tmp_path / "huge.zip", exported[0], config=config, tensors=tensors)
    _refused(store, settings, path, exported[1], r"norm.weight of shape \[10000000\]")
