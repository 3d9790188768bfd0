"""The ### section parser: the reference lines, case, preamble, and every section reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.data.sections import SectionError, parse_sections, text_to_example
from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, STYLE_PLAIN

ASSETS = Path(__file__).resolve().parents[2] / "assets"
REFERENCE = [line for line in (ASSETS / "format_examples.txt").read_text().splitlines() if line]


def test_reference_file_has_the_seven_lines():
    assert len(REFERENCE) == 7


@pytest.mark.parametrize("i,label", [(0, "negative."), (1, "neutral."), (2, "positive.")])
def test_sentiment_lines_keep_the_answer_exactly(i, label):
    ex = text_to_example(REFERENCE[i])
    assert ex.style == STYLE_HUMAN_ASSISTANT
    assert ex.instruction == (
        "What is the sentiment of this tweet? Please choose an answer from "
        "`{negative/neutral/positive}`"
    )
    assert ex.output == label
    assert ex.preamble == ""
    assert ex.text == REFERENCE[i]


def test_sentiment_human_section_is_kept_exactly():
    ex = text_to_example(REFERENCE[0])
    assert ex.input.startswith("Net sales of the Paper segment decreased to EUR 221.6 mn")
    assert ex.input.endswith("rose to EUR 8.0 mn from EUR 7.6 mn .")  # odd spacing kept


def test_completion_line():
    ex = text_to_example(REFERENCE[3])
    assert ex.instruction.startswith("Below is an instruction that describes a task.")
    assert ex.input == "What is the capital of Vietnam?"
    assert ex.output == "The capital of Vietnam is Hanoi."  # trailing space stripped


@pytest.mark.parametrize("i", [4, 5])
def test_summarization_and_translation_have_preamble_instruction_input_response(i):
    ex = text_to_example(REFERENCE[i])
    assert ex.style == STYLE_INPUT_RESPONSE
    assert ex.preamble.startswith("Below is an instruction that describes a task, paired with")
    assert ex.instruction in (
        "Summarize the given passage.",
        "Translate the following phrase into French.",
    )
    assert ex.input and ex.output
    if i == 5:
        assert (ex.input, ex.output) == ("I miss you", "Je te manque.")
    else:
        assert "world’s most pressing issues" in ex.output  # non-ASCII kept


def test_question_answering_line_has_instruction_and_response_only():
    ex = text_to_example(REFERENCE[6])
    assert ex.style == STYLE_INPUT_RESPONSE
    assert ex.instruction == "How did Julius Caesar die?"
    assert ex.input == ""
    assert ex.output.startswith("Julius Caesar was assassinated") and ex.output.endswith("44 BC.")


def test_section_names_are_case_insensitive_and_spacing_tolerant():
    ex = text_to_example("###instruction : Add. ### HUMAN: 2+2 ###Assistant:4")
    assert (ex.instruction, ex.input, ex.output) == ("Add.", "2+2", "4")


def test_plain_text_is_learned_whole():
    ex = text_to_example("  Once upon a time, there was a fox.  ")
    assert ex.style == STYLE_PLAIN and ex.output == "Once upon a time, there was a fox."


def test_parse_sections_returns_preamble_and_order():
    parsed = parse_sections("Intro. ### Instruction: a ### Input: b ### Response: c")
    assert parsed.preamble == "Intro."
    assert parsed.sections == (("instruction", "a"), ("input", "b"), ("response", "c"))


@pytest.mark.parametrize(
    "text,reason",
    [
        ("### Instruction: Say hi ### Human: Bob", "no target section"),
        ("### Instruction: x ### Assistant:   ", "no target section"),
        ("### Instruction: x ### Context: y ### Assistant: z", "unknown section '### Context'"),
        ("### Human: a ### Human: b ### Assistant: c", "duplicated section '### Human'"),
        ("### Human: a ### Input: b ### Assistant: c", "duplicated section"),
        ("### Human: a ### Response: b", "mixed sections"),
        ("### Assistant: a ### Human: b", "sections out of order: '### Human' comes after"),
        ("### no colon here", "unknown section: ### without a header"),
        ("   ", "empty text"),
    ],
)
def test_rejection_reasons(text, reason):
    with pytest.raises(SectionError, match="^" + reason.split("'")[0]) as err:
        text_to_example(text)
    assert reason in str(err.value)
