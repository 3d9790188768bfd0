"""Which columns mean what: detect a source's shape and turn each row into an Example.

Shapes (`ColumnMapping.shape`):
- "clarifai": Clarifai's CSV template; `input.data.text.raw` holds the text (### sections, or
  plain text). A filled `input.data.concepts[*].id` cell (or the column mapped as output) is
  the label: plain text becomes "Classify the text." / text / concept; sections without an
  answer get the concept as their answer; complete sections are kept and the concept is
  recorded as `meta["label"]`.
- "text": one text column (### sections, or plain text learned whole).
- "prompt_completion": prompt -> input, completion -> output. A prompt written in ###
  sections (ending with an empty "### Assistant:") is parsed, the completion fills the answer.
- "sentence_label": sentence -> input, label -> output (classification tables).
- "alpaca": instruction / input / output, rendered as Instruction / Input / Response.
- "messages": [{"role", "content"}]; "sharegpt": [{"from", "value"}]. The system turn becomes
  the instruction, the LAST assistant turn the output; earlier turns become the input: the
  single user turn as it is, or several rendered one per line as "User: …" / "Assistant: …".
  A conversation must end with an assistant turn.

`detect_mapping` guesses from column names, and asks rather than guesses: when no name
fits and no column holds ### sections, it returns a mapping with no text column chosen,
which `ColumnMapping.check` refuses with a message asking the user to map the columns (a
one-column table is its text). A cell that must be text but holds a list or an object is
that row's rejection ("non-text cell"), never its Python repr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from studio import jsonsafe
from studio.data.readers import ReadResult, json_kind
from studio.data.sections import SectionError, parse_sections, sections_to_example
from studio.data.sections import text_to_example as _text_to_example
from studio.errors import DataError
from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, Example

SHAPES = {
    "clarifai": "Clarifai template (input.data.text.raw)",
    "text": "One text column (### sections or plain text)",
    "prompt_completion": "Prompt + completion",
    "sentence_label": "Sentence + label (classification)",
    "alpaca": "Instruction + input + output (Alpaca)",
    "messages": "Chat messages [{role, content}]",
    "sharegpt": "ShareGPT conversations [{from, value}]",
}
CLARIFAI_TEXT = "input.data.text.raw"
CLARIFAI_CONCEPTS = "input.data.concepts[*].id"
CLASSIFY_INSTRUCTION = "Classify the text."  # for Clarifai rows of plain text with a concept
# Which mapping fields each shape needs (instruction and input are optional for alpaca).
REQUIRED = {
    "clarifai": ("text",),
    "text": ("text",),
    "prompt_completion": ("input", "output"),
    "sentence_label": ("input", "output"),
    "alpaca": ("output",),
    "messages": ("messages",),
    "sharegpt": ("messages",),
}
_PAIRS = {
    "prompt_completion": [
        ("prompt", "completion"),
        ("prompt", "response"),
        ("question", "answer"),
        ("input", "output"),
        ("source", "target"),
        ("context", "response"),
    ],
    "sentence_label": [
        ("sentence", "label"),
        ("text", "label"),
        ("review", "sentiment"),
        ("text", "sentiment"),
        ("sentence", "sentiment"),
    ],
}
_ROLES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
}


@dataclass(frozen=True)
class ColumnMapping:
    """How a source's columns become an Example (column names as they appear in the file)."""

    shape: str
    text: str = ""  # clarifai / text
    instruction: str = ""  # alpaca
    input: str = ""  # prompt / sentence / alpaca input
    output: str = ""  # completion / label / alpaca output / clarifai concept (optional)
    messages: str = ""  # messages / conversations
    instruction_text: str = ""  # a fixed instruction for every row of a pair shape

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}

    def check(self, columns: list[str], name: str = "the file") -> None:
        """DataError naming every mapped column that the source does not have."""
        if self.shape not in SHAPES:
            raise DataError(f"Unknown shape {self.shape!r}; choose one of {', '.join(SHAPES)}.")
        missing = [f"{f} (none chosen)" for f in REQUIRED[self.shape] if not getattr(self, f)]
        if self.shape == "text" and not self.text and len(columns) > 0:
            raise DataError(
                f"Which column of {name} holds the examples? None of its columns "
                f"({', '.join(columns[:20])}) has a name the studio knows (text, prompt / "
                "completion, instruction / output, messages, ...). Choose the shape and the "
                "columns under Column mapping, then create the version again."
            )
        fields = ("text", "instruction", "input", "output", "messages")
        used = [getattr(self, f) for f in fields if getattr(self, f)]
        missing += [f"'{c}'" for c in used if columns and c not in columns]
        if missing:
            raise DataError(
                f"The column mapping does not fit {name}: missing "
                f"{', '.join(missing)}. Its columns are: {', '.join(columns)}."
            )


def detect_mapping(result: ReadResult) -> ColumnMapping:
    """The best guess for a source, from its column names (and, failing that, its content)."""
    cols = result.columns
    if result.kind == "lines":
        return ColumnMapping("text", text="text")
    lower = {c.lower().strip(): c for c in cols}
    if CLARIFAI_TEXT in lower:
        return ColumnMapping("clarifai", text=lower[CLARIFAI_TEXT])
    for key, shape in (("messages", "messages"), ("conversations", "sharegpt")):
        if key in lower:
            return ColumnMapping(shape, messages=lower[key])
    if "instruction" in lower and ("output" in lower or "response" in lower):
        out = lower.get("output") or lower["response"]
        return ColumnMapping(
            "alpaca", instruction=lower["instruction"], input=lower.get("input", ""), output=out
        )
    for shape, pairs in _PAIRS.items():
        for a, b in pairs:
            if a in lower and b in lower:
                return ColumnMapping(shape, input=lower[a], output=lower[b])
    if "text" in lower:
        return ColumnMapping("text", text=lower["text"])
    # Otherwise: the column whose cells hold ### sections; a lone text column; else ask.
    sample = [r.value for r in result.rows[:50] if isinstance(r.value, dict)]
    for c in cols:
        if any(isinstance(v.get(c), str) and "###" in v[c] for v in sample):
            return ColumnMapping("text", text=c)
    if len(cols) == 1 and all(isinstance(v.get(cols[0], ""), str) for v in sample):
        return ColumnMapping("text", text=cols[0])
    if not cols and any(isinstance(r.value, str) for r in result.rows[:50]):
        return ColumnMapping("text", text="text")  # a JSON list of strings: each is a text
    return ColumnMapping("text", text="")  # ask: check() names the columns to choose from


def _cell(value: Any, column: str) -> str:
    if isinstance(value, str):  # a JSON string or a text line
        return value if column in ("", "text") else ""
    if not isinstance(value, dict):
        raise SectionError(f"wrong JSON: the row is {json_kind(value)}, expected an object")
    v = value.get(column) if column else None
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, list | dict):
        raise SectionError(
            f"non-text cell: column '{column}' holds {json_kind(v)}, not text; "
            "map a text column, or choose the messages shape for a list of "
            "turns"
        )
    if isinstance(v, float) and not math.isfinite(v):
        raise SectionError(f"non-text cell: column '{column}' holds {v}, not text")
    return str(v).lower() if isinstance(v, bool) else str(v)


def _turns(value: Any, column: str) -> list[tuple[str, str]]:
    raw = value.get(column) if isinstance(value, dict) else None
    if isinstance(raw, str):  # a CSV cell holding JSON
        try:
            raw = jsonsafe.loads(raw)
        except ValueError as exc:
            raise SectionError(f"wrong JSON in column '{column}': {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise SectionError(f"wrong JSON: '{column}' must be a non-empty list of turns")
    turns = []
    for i, t in enumerate(raw, 1):
        if not isinstance(t, dict):
            raise SectionError(f"wrong JSON: turn {i} of '{column}' is not an object")
        role = t.get("role", t.get("from"))
        content = t.get("content", t.get("value"))
        if str(role).lower() not in _ROLES or not isinstance(content, str):
            raise SectionError(
                f"wrong JSON: turn {i} needs a role (system/user/assistant) and text content"
            )
        turns.append((_ROLES[str(role).lower()], content))
    return turns


def conversation_to_example(turns: list[tuple[str, str]], text: str) -> Example:
    """System -> instruction, last assistant turn -> output, earlier turns -> input."""
    if turns[-1][0] != "assistant":
        raise SectionError("no target section: the conversation must end with an assistant turn")
    system = "\n".join(c.strip() for r, c in turns if r == "system")
    dialogue = [(r, c.strip()) for r, c in turns[:-1] if r != "system"]
    if len(dialogue) == 1 and dialogue[0][0] == "user":
        user = dialogue[0][1]
    else:
        user = "\n".join(f"{'User' if r == 'user' else 'Assistant'}: {c}" for r, c in dialogue)
    return Example(
        instruction=system,
        input=user,
        output=turns[-1][1].strip(),
        style=STYLE_HUMAN_ASSISTANT,
        text=text,
    )


def _concept(value: Any, mapping: ColumnMapping) -> str:
    if not isinstance(value, dict):
        return ""
    if mapping.output:
        return _cell(value, mapping.output).strip()
    # Detection maps only the text column, so find the template's concepts column by name.
    return next(
        (_cell(value, k).strip() for k in value if k.lower().strip() == CLARIFAI_CONCEPTS), ""
    )


def _clarifai_example(value: Any, raw: str, mapping: ColumnMapping) -> Example:
    """Clarifai's text cell; a filled concepts cell is the label, so it is never lost."""
    text = _cell(value, mapping.text).strip()
    concept = _concept(value, mapping)
    if not concept:
        return _text_to_example(text)
    parsed = parse_sections(text)
    label = {"label": concept}
    if not parsed.sections:
        if not parsed.preamble:
            raise SectionError(f"empty text: the '{mapping.text}' column is empty")
        return Example(
            instruction=mapping.instruction_text.strip() or CLASSIFY_INSTRUCTION,
            input=text,
            output=concept,
            style=STYLE_HUMAN_ASSISTANT,
            text=raw,
            meta=label,
        )
    if any(n in ("assistant", "response") and body for n, body in parsed.sections):
        return replace(sections_to_example(parsed, text), meta=label)  # the sections win
    return replace(sections_to_example(parsed, raw, output=concept), meta=label)


def row_to_example(value: Any, raw: str, mapping: ColumnMapping) -> Example:
    """One row as an Example; raises SectionError whose message is the rejection reason."""
    shape = mapping.shape
    if shape == "clarifai":
        return _clarifai_example(value, raw, mapping)
    if shape == "text":
        return _text_to_example(_cell(value, mapping.text).strip())
    if shape in ("messages", "sharegpt"):
        return conversation_to_example(_turns(value, mapping.messages), raw)
    output = _cell(value, mapping.output).strip()
    if shape == "alpaca":
        instruction = _cell(value, mapping.instruction).strip()
        given = _cell(value, mapping.input).strip()
        if not (instruction or given or output):
            raise SectionError("empty text")
        if not output:
            raise SectionError(f"no target section: the '{mapping.output}' column is empty")
        return Example(
            instruction=instruction,
            input=given,
            output=output,
            style=STYLE_INPUT_RESPONSE,
            text=raw,
        )
    prompt = _cell(value, mapping.input).strip()
    if not (prompt or output):
        raise SectionError("empty text")
    if not output:
        raise SectionError(f"no target section: the '{mapping.output}' column is empty")
    if "###" in prompt:
        return sections_to_example(parse_sections(prompt), raw, output=output)
    if not prompt and not mapping.instruction_text:
        raise SectionError(f"empty text: the '{mapping.input}' column is empty")
    return Example(
        instruction=mapping.instruction_text.strip(),
        input=prompt,
        output=output,
        style=STYLE_HUMAN_ASSISTANT,
        text=raw,
    )
