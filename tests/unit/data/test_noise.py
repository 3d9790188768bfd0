"""An upload that reads like noise gets a plain warning; real text of every sample does not."""

from __future__ import annotations

import random
import string

import pytest

from studio.data.noise import language_signals, noise_warning, tokens_of
from studio.data.readers import read_path
from studio.data.samples import SAMPLES
from studio.data.shapes import detect_mapping
from studio.data.validate import validate_sources
from studio.data.versions import create_version, pasted_source


def _junk_lines(alphabet: str, lines: int = 30, seed: int = 0) -> str:
    rnd = random.Random(seed)
    return "\n".join(
        " ".join(
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(2, 10)))
            for _ in range(rnd.randint(4, 14))
        )
        for _ in range(lines)
    )


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_sample_reads_as_language(key):
    result = read_path(SAMPLES[key].path, 50, 200_000)
    checked = validate_sources([(result, detect_mapping(result))], 20_000, 100)
    signals = language_signals(tokens_of(checked.examples))
    assert signals["word_share"] > 0.9 and signals["repeated_share"] > 0.6
    assert noise_warning(signals) == ""


@pytest.mark.parametrize(
    "alphabet, why",
    [
        (string.ascii_letters + string.digits + string.punctuation, "pieces are words"),
        (string.ascii_letters + string.digits, "pieces are words"),
        (string.ascii_lowercase, "occur more than once"),  # letters only: no word repeats
    ],
)
def test_random_characters_are_called_noise(alphabet, why):
    lines = _junk_lines(alphabet).splitlines()
    signals = language_signals([t for line in lines for t in line.split()])
    warning = noise_warning(signals)
    assert warning.startswith("**This looks like noise, not text:**") and why in warning


def test_words_are_letters_of_any_script_around_punctuation():
    signals = language_signals(["“Umsatz”", "收入。", "year-on-year,", "it's", "96.4", "#x9"])
    assert signals["word_share"] == round(4 / 6, 3)
    assert language_signals([]) == {"tokens": 0, "word_share": 1.0, "repeated_share": 1.0}


def test_a_junk_txt_upload_is_accepted_with_the_warning(store, settings):
    app_id = store.create_app("Junk")["id"]
    text = _junk_lines(string.ascii_letters + string.digits + string.punctuation)
    row, report = create_version(store, settings, app_id, "junk", [pasted_source(text)])
    assert report["n_accepted"] == 30  # still accepted: only the user knows what is meant
    assert report["notes"][0].startswith("**This looks like noise, not text:**")
    assert row["stats"]["language"]["word_share"] < 0.5
    _, clean = create_version(
        store, settings, app_id, "words", [pasted_source("The quarter went well.\nSales rose.")]
    )
    assert not any("noise" in note for note in clean["notes"])
