"""Validate remembers its costly constructions (TrainingArguments, the scheduler, the LoRA
adapter on the base's meta model): a repeated question is answered from the memo, a changed
setting or a changed base config.json never is, and the memo stays bounded."""

from __future__ import annotations

import json

import pytest

from studio.configs import construct
from studio.configs.memo import Memo, fingerprint


@pytest.fixture(autouse=True)
def fresh_memos():
    memos = (construct._ARGS, construct._SCHEDULES, construct._ADAPTERS, construct._ARCHITECTURES)
    for memo in memos:
        memo.clear()
    yield
    for memo in memos:
        memo.clear()


def test_memo_is_bounded_and_forgets_the_least_recently_used():
    memo, calls = Memo(2), []

    def answer(key):
        return lambda: calls.append(key) or f"answer {key}"

    assert memo.get("a", answer("a")) == "answer a"
    memo.get("b", answer("b"))
    assert memo.get("a", answer("a")) == "answer a"  # a is now the most recent
    memo.get("c", answer("c"))  # evicts b
    assert len(memo) == 2
    memo.get("a", answer("a"))
    memo.get("b", answer("b"))
    assert calls == ["a", "b", "c", "b"]
    with pytest.raises(ValueError):
        Memo(0)


def test_memo_does_not_keep_a_failure():
    memo = Memo(4)

    def boom():
        raise ImportError("peft missing")

    with pytest.raises(ImportError):
        memo.get("k", boom)
    assert len(memo) == 0
    assert memo.get("k", lambda: 1) == 1


def test_fingerprint_ignores_key_order_but_not_types_or_values():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    texts = {fingerprint({"a": v}) for v in (1, 1.0, True, "1", None, [1])}
    assert len(texts) == 6
    assert fingerprint({"a": {"x": 1}}) != fingerprint({"a": {"x": 2}})


def test_training_arguments_changed_settings_are_built_again():
    bad = {"load_best_model_at_end": True, "eval_strategy": "steps", "save_strategy": "epoch"}
    good = {**bad, "save_strategy": "steps"}
    first = construct.training_arguments_problems(bad, has_eval=True)
    assert first and first[0].key.startswith("trainer")
    assert construct.training_arguments_problems(good, has_eval=True) == []
    # The same question again is a hit with the same answer; the answer is a fresh list.
    hits = construct._ARGS.hits
    again = construct.training_arguments_problems(bad, has_eval=True)
    assert again == first and again is not first
    assert construct._ARGS.hits == hits + 1
    # Without an evaluation set the trainer evaluates nothing: a different question.
    assert construct.training_arguments_problems(bad, has_eval=False) == []


def test_training_arguments_key_holds_the_world_size(monkeypatch):
    # Not built for real with WORLD_SIZE=2: that would start a process group in this process.
    built = []
    monkeypatch.setattr(
        construct,
        "_training_arguments_problems",
        lambda trainer, has_eval: built.append(trainer) or (),
    )
    trainer = {"learning_rate": 1e-4}
    construct.training_arguments_problems(trainer, has_eval=True)
    construct.training_arguments_problems(trainer, has_eval=True)
    assert len(built) == 1
    monkeypatch.setattr(construct, "world_size", lambda: 2)
    construct.training_arguments_problems(trainer, has_eval=True)
    assert len(built) == 2


def test_scheduler_options_changed_are_built_again():
    needs = {"lr_scheduler_type": "cosine_with_min_lr"}
    assert construct.scheduler_problems(needs)[0].key == "trainer.lr_scheduler_type"
    given = {**needs, "lr_scheduler_kwargs": {"min_lr": 1e-6}}
    assert construct.scheduler_problems(given) == []
    wrong = {**needs, "lr_scheduler_kwargs": {"no_such_option": 1}}
    assert construct.scheduler_problems(wrong)[0].key == "trainer.lr_scheduler_kwargs"
    # Keys the schedule does not read share one entry.
    hits = construct._SCHEDULES.hits
    assert construct.scheduler_problems({**given, "learning_rate": 3e-4}) == []
    assert construct._SCHEDULES.hits == hits + 1


def _write_base(folder, layers: int) -> str:
    folder.mkdir(exist_ok=True)
    cfg = {
        "model_type": "llama",
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "vocab_size": 64,
        "max_position_embeddings": 64,
    }
    (folder / "config.json").write_text(json.dumps(cfg))
    return str(folder)


def test_lora_answers_follow_the_peft_config_and_the_base(tmp_path):
    from studio.settings import Settings

    settings = Settings.from_env(home=tmp_path / "home", models_root=tmp_path / "models")
    base = _write_base(tmp_path / "tiny", layers=2)
    peft = {"r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "layers_to_transform": [3]}
    problems = construct.lora_problems(peft, base, "causal", settings)
    assert [str(p) for p in problems] == [
        f"peft.layers_to_transform: layer 3 does not exist; {base} has layers 0 to 1"
    ]
    # The same base folder, now with four layers: its config.json is read again, not served
    # from the memo.
    _write_base(tmp_path / "tiny", layers=4)
    assert construct.lora_problems(peft, base, "causal", settings) == []
    # A changed PEFT config is built again: a module the model does not have is refused.
    missing = {**peft, "target_modules": ["no_such_proj"]}
    problems = construct.lora_problems(missing, base, "causal", settings)
    assert len(problems) == 1 and problems[0].key == "peft.target_modules"
    assert "q_proj" in problems[0].message  # the hint lists the modules the model has
    # Asked again: answered from the memo; the meta model was built once for that base.
    hits = construct._ADAPTERS.hits
    assert construct.lora_problems(missing, base, "causal", settings) == problems
    assert construct._ADAPTERS.hits == hits + 1
    assert construct.lora_problems(peft, base, "causal", settings) == []
    assert len(construct._ARCHITECTURES) == 1
    # The copy the adapter was built on is not the kept model: it has no LoRA layers.
    kept = next(iter(construct._ARCHITECTURES._items.values()))
    assert not any("lora_" in name for name, _ in kept.named_modules())


def test_memos_stay_bounded(tmp_path):
    for i in range(construct._SCHEDULES.size + 5):
        construct.scheduler_problems({"warmup_steps": i})
    assert len(construct._SCHEDULES) == construct._SCHEDULES.size
