"""Shape detection and row conversion for every accepted format."""

from __future__ import annotations

import json

import pytest

from studio.data.readers import read_bytes
from studio.data.sections import SectionError
from studio.data.shapes import ColumnMapping, detect_mapping, row_to_example
from studio.errors import DataError
from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, STYLE_PLAIN


def examples(name: str, text: str, mapping: ColumnMapping | None = None):
    result = read_bytes(name, text.encode(), 5)
    mapping = mapping or detect_mapping(result)
    return mapping, [row_to_example(r.value, r.raw, mapping) for r in result.rows]


def jsonl(*records) -> str:
    return "\n".join(json.dumps(r) for r in records)


def test_clarifai_template():
    m, [a, b] = examples(
        "c.csv",
        "input.data.text.raw,input.data.concepts[*].id\n"
        '"### Instruction: S? ### Human: up 5% ### Assistant: positive.",\n'
        "A plain sentence to learn.,\n",
    )
    assert m.shape == "clarifai" and m.text == "input.data.text.raw"
    assert (a.input, a.output, a.style) == ("up 5%", "positive.", STYLE_HUMAN_ASSISTANT)
    assert (b.output, b.style) == ("A plain sentence to learn.", STYLE_PLAIN)


def test_text_jsonl():
    m, [ex] = examples("t.jsonl", jsonl({"text": "### Instruction: a ### Response: b"}))
    assert m.shape == "text" and (ex.instruction, ex.output) == ("a", "b")


def test_prompt_completion_plain_and_sectioned():
    m, [plain, sectioned] = examples(
        "p.jsonl",
        jsonl(
            {"prompt": "Translate: cat", "completion": " chat"},
            {
                "prompt": "### Instruction: Sentiment? ### Human: Good. ### Assistant:",
                "completion": " positive.",
            },
        ),
    )
    assert m.shape == "prompt_completion"
    assert (plain.input, plain.output, plain.style) == (
        "Translate: cat",
        "chat",
        STYLE_HUMAN_ASSISTANT,
    )
    assert (sectioned.instruction, sectioned.input, sectioned.output) == (
        "Sentiment?",
        "Good.",
        "positive.",
    )


def test_alpaca():
    m, [ex] = examples(
        "a.json",
        json.dumps(
            [{"instruction": "Translate", "input": "I miss you", "output": "Je te manque."}]
        ),
    )
    assert m.shape == "alpaca" and ex.style == STYLE_INPUT_RESPONSE
    assert (ex.instruction, ex.input, ex.output) == ("Translate", "I miss you", "Je te manque.")


def test_messages_multi_turn():
    convo = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    m, [ex] = examples("m.jsonl", jsonl({"messages": convo}))
    assert m.shape == "messages"
    assert ex.instruction == "Be brief."
    assert ex.input == "User: Hi\nAssistant: Hello\nUser: 2+2?"
    assert ex.output == "4"


def test_sharegpt_single_turn():
    convo = [{"from": "human", "value": "Capital of France?"}, {"from": "gpt", "value": "Paris"}]
    m, [ex] = examples("s.jsonl", jsonl({"conversations": convo}))
    assert m.shape == "sharegpt" and (ex.instruction, ex.input, ex.output) == (
        "",
        "Capital of France?",
        "Paris",
    )


def test_conversation_must_end_with_assistant():
    convo = [{"role": "user", "content": "hi"}]
    with pytest.raises(SectionError, match="no target section"):
        examples("m.jsonl", jsonl({"messages": convo}))


def test_messages_cell_in_csv_with_bad_json():
    with pytest.raises(SectionError, match="wrong JSON in column 'messages'"):
        examples("m.csv", 'messages\n"[{oops"\n')


def test_sentence_label_with_fixed_instruction():
    m = ColumnMapping(
        "sentence_label", input="sentence", output="label", instruction_text="Sentiment?"
    )
    _, [ex] = examples("s.tsv", "sentence\tlabel\nSales rose.\tpositive\n", m)
    assert (ex.instruction, ex.input, ex.output) == ("Sentiment?", "Sales rose.", "positive")
    assert detect_mapping(read_bytes("s.tsv", b"sentence\tlabel\na\tb\n", 5)).shape == (
        "sentence_label"
    )


def test_user_mapping_override_for_unknown_columns():
    result = read_bytes("q.csv", b"question_text,answer_text\nWho?,Me\n", 5)
    guess = detect_mapping(result)  # no known name: the user is asked, nothing is guessed
    assert guess.shape == "text" and guess.text == ""
    with pytest.raises(DataError, match="Column mapping"):
        guess.check(result.columns, "q.csv")
    m = ColumnMapping("prompt_completion", input="question_text", output="answer_text")
    m.check(result.columns)
    ex = row_to_example(result.rows[0].value, result.rows[0].raw, m)
    assert (ex.input, ex.output) == ("Who?", "Me")


def test_mapping_check_names_missing_columns():
    m = ColumnMapping("alpaca", instruction="instr", output="answer")
    with pytest.raises(DataError, match="missing 'instr', 'answer'"):
        m.check(["prompt", "completion"], "x.csv")
    with pytest.raises(DataError, match="output \\(none chosen\\)"):
        ColumnMapping("alpaca").check(["a"])


CLARIFAI_HEADER = "input.data.text.raw,input.data.concepts[*].id\n"


def test_clarifai_concept_is_the_answer_of_plain_text():
    m, [ex, unlabelled] = examples(
        "c.csv", CLARIFAI_HEADER + "Sales fell 5%.,negative\nA plain sentence to learn.,\n"
    )
    assert m.shape == "clarifai"
    assert (ex.instruction, ex.input, ex.output) == (
        "Classify the text.",
        "Sales fell 5%.",
        "negative",
    )
    assert ex.style == STYLE_HUMAN_ASSISTANT and ex.meta == {"label": "negative"}
    assert (unlabelled.output, unlabelled.style, unlabelled.meta) == (
        "A plain sentence to learn.",
        STYLE_PLAIN,
        {},
    )


def test_clarifai_sections_win_over_the_concept_which_is_kept_as_label():
    line = "### Instruction: S? ### Human: up 5% ### Assistant: positive."
    _, [ex] = examples("c.csv", CLARIFAI_HEADER + f'"{line}",bullish\n')
    assert (ex.instruction, ex.input, ex.output) == ("S?", "up 5%", "positive.")
    assert ex.meta == {"label": "bullish"} and ex.text == line


def test_clarifai_concept_answers_sections_without_an_answer():
    _, [open_end, no_target] = examples(
        "c.csv",
        CLARIFAI_HEADER + '"### Instruction: S? ### Human: down ### Assistant:",negative\n'
        '"### Instruction: S? ### Human: flat",neutral\n',
    )
    assert (open_end.input, open_end.output) == ("down", "negative")
    assert (no_target.input, no_target.output) == ("flat", "neutral")


def test_clarifai_concept_without_text_is_empty_text():
    result = read_bytes("c.csv", (CLARIFAI_HEADER + ",negative\n").encode(), 5)
    with pytest.raises(SectionError, match="empty text: the 'input.data.text.raw' column"):
        row_to_example(result.rows[0].value, result.rows[0].raw, detect_mapping(result))


@pytest.mark.parametrize("value", [5, None, True, [1, 2]])
def test_row_that_is_not_an_object_is_wrong_json_not_a_crash(value):
    for mapping in (
        ColumnMapping("text", text="text"),
        ColumnMapping("prompt_completion", input="prompt", output="completion"),
    ):
        with pytest.raises(SectionError, match="wrong JSON: the row is"):
            row_to_example(value, json.dumps(value), mapping)
