"""Every template, on a tiny random model of its base architecture, through the whole flow:
Validate -> train (`python -m studio.train` through the job runner, QLoRA in 4-bit on the
CPU) -> Generate (exact, and the fast path) -> Evaluate -> Export (adapter zip, merged model,
GGUF where the architecture allows it) -> import the exported adapter back.

A template whose target modules, chat template or special tokens do not fit its
architecture fails here: Validate builds its LoRA adapter on the tiny model, training loads
its tokenizer settings into the family's tokenizer, and the chat check below compares the
end-of-answer token the studio trains with the one the family's chat template closes a turn
with. Templates that train alike share one run (tests/integration/template_flows.py).
"""

from __future__ import annotations

import pytest

from studio.configs import CPU_ONLY, validate
from studio.export.gguf import GGUFRefused
from studio.models.loading import load_tokenizer
from studio.settings import Settings
from studio.store import Store
from studio.templates import TEMPLATES
from tests.integration.template_flows import (
    TemplateFlows,
    concurrency,
    finite,
    train_threads_env,
)


@pytest.fixture(scope="module")
def flows(request, tmp_path_factory, models_cache, packaged_model_dir):
    home = tmp_path_factory.mktemp("template-flows")
    settings = Settings.from_env(
        home=home, models_root=models_cache, port=0, max_concurrent_jobs=concurrency()
    )
    settings.ensure_dirs()
    patch = pytest.MonkeyPatch()
    for name, value in train_threads_env().items():
        patch.setenv(name, value)
    try:
        yield TemplateFlows(
            Store(settings.db_path, files_root=settings.apps_dir),
            settings,
            models_cache,
            packaged_model_dir,
            keys=_selected(request.session.items),
        )
    finally:
        patch.undo()


def _selected(items) -> list[str]:
    """The template keys of the flow tests this session runs."""
    return [
        item.callspec.params["key"]
        for item in items
        if getattr(item, "originalname", "") == "test_template_flow"
    ]


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_template_flow(flows, key):
    case = flows.case(key)
    settings = flows.settings

    # Validate: the template's own dicts, its LoRA adapter built on the tiny architecture.
    problems = validate(TEMPLATES[key], case.hyper, case.dicts, CPU_ONLY, case.model_type, settings)
    assert problems == []

    # Its special tokens are the family's, and fit the family's chat template.
    tok = load_tokenizer(case.base, settings, case.dicts["tokenizer"])
    if tok.chat_template:
        turn = tok.apply_chat_template(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "positive"}],
            tokenize=False,
        )
        assert f"positive{tok.eos_token}" in turn, (tok.eos_token, turn)

    result = flows.result(case)
    assert result.job["status"] == "succeeded", (result.job["reason"], result.log)
    summary = result.status["summary"]
    assert summary["steps"] == 3 and finite(summary["train_loss"])
    method = TEMPLATES[key].method
    assert summary["trainable_params"] < summary["total_params"] or method == "scratch"

    steps = result.steps
    exact, fast, base = (steps["generate"][k] for k in ("exact", "fast", "base"))
    assert exact.status == fast.status == base.status == "done"
    assert exact.engine.startswith("exact") and fast.finish_reason in ("stop", "length")
    assert exact.prompt == base.prompt  # the tuned model and its base read the same text

    ppl = steps["evaluate"]["perplexity"]
    assert finite(ppl["tuned"]["cross_entropy"]) and ppl["tuned"]["perplexity"] > 1
    assert 0 <= steps["evaluate"]["classification"]["tuned"]["accuracy"] <= 1

    # The merged export (dequantized: merged into a full-precision base) answers as the
    # studio's exact generation does; the adapter zip, imported back, does too.
    assert steps["merged"] == exact.text.strip()
    if method == "scratch":
        assert "config.json" in steps["adapter_zip"] and "imported" not in steps
    else:
        assert {"adapter_config.json", "adapter_model.safetensors"} <= set(steps["adapter_zip"])
        assert steps["imported"].text == exact.text

    if case.gguf_expected:
        assert steps["gguf"] == ["Modelfile", "README.md", "model-Q8_0.gguf"]
    else:
        assert isinstance(steps["gguf"], GGUFRefused)
