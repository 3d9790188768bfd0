"""The tiny test models load and run: if these fail, every model test will."""

from __future__ import annotations


def test_tiny_causal_loads_and_generates(tiny_causal_dir, settings):
    from studio.models.loading import load_model, load_tokenizer

    tok = load_tokenizer(str(tiny_causal_dir), settings)
    model = load_model(str(tiny_causal_dir), settings)
    ids = tok("### Instruction: hi ### Assistant:", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 5


def test_tiny_seq2seq_loads(tiny_seq2seq_dir, settings):
    from studio.models.loading import load_model

    model = load_model(str(tiny_seq2seq_dir), settings, model_type="seq2seq")
    assert model.config.is_encoder_decoder
