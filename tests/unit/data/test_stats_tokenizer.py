"""Token-length stats use the tokenizer of the base model the user picks, and say which."""

from __future__ import annotations

from studio.data.stats import stats_tokenizer
from studio.data.versions import create_version
from studio.models.resolve import PACKAGED_REF
from studio.ui.inputs.preview import stats_markdown

LINES = b"### Instruction: Say hi. ### Response: hi\n### Instruction: Say bye. ### Response: bye\n"


def test_the_chosen_tokenizer_counts_and_is_named(store, settings, tiny_causal_dir):
    app = store.create_app("tokens")
    chosen, why = stats_tokenizer(settings, str(tiny_causal_dir))
    assert chosen is not None and why == ""
    assert stats_tokenizer(settings, str(tiny_causal_dir))[0] is chosen  # loaded once
    version, _ = create_version(
        store,
        settings,
        app["id"],
        "greetings",
        [("g.txt", LINES)],
        tokenizer=chosen,
        tokenizer_name="Tiny test model",
    )
    tokens = version["stats"]["token_lengths"]
    assert tokens["tokenizer"] == "Tiny test model" and tokens["max"] > 1
    assert "with the Tiny test model tokenizer" in stats_markdown(version)


def test_a_tokenizer_that_cannot_load_says_which_model(settings, tmp_path):
    tok, why = stats_tokenizer(settings, str(tmp_path / "no-model-here"))
    assert tok is None and "no-model-here" in why
    assert stats_tokenizer(settings)[0] is stats_tokenizer(settings, PACKAGED_REF)[0]
