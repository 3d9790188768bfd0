"""bf16 mixed precision on a CPU: the run's Trainer really autocasts (a Linear inside the
model computes in bf16) while the weights it trains stay fp32; fp32 runs stay fp32."""

from __future__ import annotations

import pytest
import torch

from studio.configs.runs import TrainRun
from studio.configs.training_args import training_arguments
from studio.train.data import tokenize_all
from studio.train.extras import configure_extras
from studio.train.model import build_model, build_tokenizer
from studio.train.training import make_trainer
from tests.support.examples import word_sentiment
from tests.support.runs import run_config

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path")


def _train(tmp_path, tiny_causal_dir, settings, bf16: bool, head_only: bool):
    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        trainer={"max_steps": 2, "bf16": bf16, "save_strategy": "no", "logging_steps": 1},
        studio={"head_only": head_only},
    )
    run = TrainRun.from_dict(cfg)
    tok = build_tokenizer(run, settings)
    ds = tokenize_all(word_sentiment(16), tok, run.tokenizer, run.model_type, True)
    model = build_model(run, settings, tok)
    args = training_arguments(run.trainer, run.method, tmp_path / "ckpt", has_eval=False)
    trainer = make_trainer(run, model, tok, ds, None, args, [])
    configure_extras(trainer, run, model, None, None)
    seen: list[torch.dtype] = []
    linear = model.get_base_model().model.layers[0].mlp.down_proj  # a Linear with no adapter
    handle = linear.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    trainer.train()
    handle.remove()
    trained = [p for p in model.parameters() if p.requires_grad]
    return trainer, seen, trained


@pytest.mark.parametrize("head_only", [True, False])
def test_bf16_on_a_cpu_trains_under_autocast_with_fp32_weights(
    tmp_path, tiny_causal_dir, settings, head_only
):
    trainer, seen, trained = _train(tmp_path, tiny_causal_dir, settings, True, head_only)
    assert trainer.head_only is head_only
    # The rows share their instruction: with the head only, it runs once per batch, in bf16 too.
    assert trainer.share_prefix is head_only and (trainer.shared_batches > 0) is head_only
    assert seen and set(seen) == {torch.bfloat16}
    assert trained and all(p.dtype == torch.float32 for p in trained)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))


def test_fp32_on_a_cpu_does_not_autocast(tmp_path, tiny_causal_dir, settings):
    _, seen, _ = _train(tmp_path, tiny_causal_dir, settings, False, True)
    assert seen and set(seen) == {torch.float32}
