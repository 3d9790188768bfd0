"""Does an upload read like language? Two measurable signals, for a plain warning.

A file of random characters (a wrong file, a binary read as text, a broken encoding) parses
into perfectly valid examples: nothing is rejected, and the model would learn to write noise.
So the upload report measures, over the examples' words (whitespace-separated tokens):

- the **word share**: tokens that are words once the punctuation around them is removed,
  i.e. letters of any script, possibly joined by an apostrophe or a hyphen ("it's", "year-on-
  year", "Umsatz", "收入"). Prose, questions, chat and labels score 0.8-1.0 (numbers and
  symbols are the rest); random characters score well under half.
- the **repeated-word share**: tokens that occur more than once. Language repeats its small
  words ("the", "of", "a") all the time; random strings almost never repeat, even when they
  are made of letters only. Measured only on enough tokens to mean something.

Either below its floor gives a warning naming the numbers; nothing is refused (a list of
part numbers or a code corpus may be what the user means).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from studio.vocab.examples import Example

# Letters (any script, no digits or underscore), optionally joined by ' ’ or -.
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")  # punctuation and symbols around a word
MIN_WORD_SHARE = 0.5
MIN_REPEATED_SHARE = 0.2
MIN_TOKENS_FOR_REPEATS = 100
MAX_TOKENS = 100_000  # enough to measure; a big upload is not read twice over


def tokens_of(examples: Iterable[Example]) -> list[str]:
    """The whitespace-separated tokens of the examples' text (instruction, input, answer),
    at most MAX_TOKENS."""
    out: list[str] = []
    for ex in examples:
        for part in (ex.instruction, ex.input, ex.output):
            out.extend(part.split())
            if len(out) >= MAX_TOKENS:
                return out[:MAX_TOKENS]
    return out


def language_signals(tokens: list[str]) -> dict[str, float | int]:
    """{"tokens", "word_share", "repeated_share"} of a token list (shares in 0..1)."""
    if not tokens:
        return {"tokens": 0, "word_share": 1.0, "repeated_share": 1.0}
    bare = [_EDGES.sub("", t) for t in tokens]
    words = sum(1 for t in bare if _WORD.fullmatch(t))
    counts = Counter(t.lower() for t in bare if t)  # a bare symbol is no word to repeat
    repeated = sum(n for n in counts.values() if n > 1)
    return {
        "tokens": len(tokens),
        "word_share": round(words / len(tokens), 3),
        "repeated_share": round(repeated / len(tokens), 3),
    }


def noise_warning(signals: dict[str, float | int]) -> str:
    """A plain warning when the signals say the text does not read like language, else ""."""
    n = int(signals.get("tokens", 0))
    if not n:
        return ""
    word_share = float(signals.get("word_share", 1.0))
    repeated_share = float(signals.get("repeated_share", 1.0))
    why = []
    if word_share < MIN_WORD_SHARE:
        why.append(
            f"only {word_share:.0%} of its {n} space-separated pieces are words (letters; "
            f"text usually has over {MIN_WORD_SHARE:.0%})"
        )
    if n >= MIN_TOKENS_FOR_REPEATS and repeated_share < MIN_REPEATED_SHARE:
        why.append(
            f"only {repeated_share:.0%} of them occur more than once (text repeats its small "
            f"words: usually over {MIN_REPEATED_SHARE:.0%})"
        )
    if not why:
        return ""
    return (
        f"**This looks like noise, not text:** {', and '.join(why)}. Check that this is the "
        "file you meant and that it is text in UTF-8 or UTF-16: a model trained on it learns "
        "to write the same noise."
    )
