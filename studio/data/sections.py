"""The "###" section format: `### Instruction: … ### Human: … ### Assistant: …`.

Also `### Instruction: … ### Input: … ### Response: …`, each with an optional preamble before
the first `###` ("Below is an instruction that describes a task…"). Section names match
case-insensitively; each section's text is kept exactly, only surrounding whitespace is
stripped. A line with no `###` at all is plain text: the whole line is what the model learns.

    text_to_example("### Instruction: Sentiment? ### Human: Sales fell. ### Assistant: negative.")
    -> Example(instruction="Sentiment?", input="Sales fell.", output="negative.", ...)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, STYLE_PLAIN, Example

# "### Name:"; a name is a word or two, so "### 3 things: …" in prose is not a header.
_HEADER = re.compile(r"###[ \t]*([A-Za-z][A-Za-z ]{0,30}?)[ \t]*:")
_ROLE = {
    "instruction": "instruction",
    "human": "input",
    "input": "input",
    "assistant": "output",
    "response": "output",
}
_KNOWN_TEXT = "Instruction, Human, Assistant, Input, Response"


class SectionError(ValueError):
    """A row whose sections cannot be read; the message is the row's rejection reason."""


class Sections(NamedTuple):
    """The parsed parts of one text: preamble plus (lower-case name, text) in order."""

    preamble: str
    sections: tuple[tuple[str, str], ...]


def parse_sections(text: str) -> Sections:
    """Split text at its `### Name:` headers; raises SectionError for unknown/duplicated ones."""
    # One split call gives [preamble, name1, body1, name2, body2, ...]: fast for 100k rows.
    parts = _HEADER.split(text)
    if len(parts) == 1:
        if "###" in text:
            raise SectionError(
                "unknown section: ### without a header like '### Instruction:' (name and colon)"
            )
        return Sections(text.strip(), ())
    names = [n.strip().lower() for n in parts[1::2]]
    for raw, name in zip(parts[1::2], names, strict=True):
        if name not in _ROLE:
            raise SectionError(f"unknown section '### {raw.strip()}' (known: {_KNOWN_TEXT})")
    if len(set(names)) != len(names):
        dup = next(n for i, n in enumerate(names) if n in names[:i])
        raise SectionError(f"duplicated section '### {dup.title()}'")
    roles = [_ROLE[n] for n in names]
    if len(set(roles)) != len(roles):
        raise SectionError(
            "duplicated section: ### Human and ### Input (or ### Assistant and "
            "### Response) both appear; keep one of each pair"
        )
    bodies = [b.strip() for b in parts[2::2]]
    return Sections(parts[0].strip(), tuple(zip(names, bodies, strict=True)))


def sections_to_example(parsed: Sections, text: str, output: str | None = None) -> Example:
    """Build an Example from parsed sections; `output` overrides a missing target section.

    Raises SectionError when there is nothing to learn or the sections mix the two styles.
    """
    names = [n for n, _ in parsed.sections]
    if ("human" in names and "response" in names) or ("input" in names and "assistant" in names):
        raise SectionError(
            "mixed sections: use Instruction/Human/Assistant or Instruction/Input/Response"
        )
    parts = {_ROLE[n]: body for n, body in parsed.sections}
    target = next((n for n in names if _ROLE[n] == "output"), None)
    if target and names[-1] != target:
        raise SectionError(
            f"sections out of order: '### {names[-1].title()}' comes after "
            f"'### {target.title()}'; the answer section must be last"
        )
    if output is not None:
        # A prompt may end with an empty "### Assistant:" that the completion fills.
        if parts.get("output"):
            raise SectionError("the prompt already holds an answer (### Assistant/Response)")
        parts["output"] = output
    elif target is None:
        raise SectionError(
            "no target section: add '### Assistant:' or '### Response:' with the answer"
        )
    if not parts["output"].strip():
        raise SectionError("no target section: the answer section is empty")
    style = STYLE_INPUT_RESPONSE if {"input", "response"} & set(names) else STYLE_HUMAN_ASSISTANT
    return Example(
        instruction=parts.get("instruction", ""),
        input=parts.get("input", ""),
        output=parts["output"],
        preamble=parsed.preamble,
        style=style,
        text=text,
    )


def text_to_example(text: str) -> Example:
    """One text (a line, a cell) as an Example: sectioned, or plain when it has no `###`."""
    parsed = parse_sections(text)
    if not parsed.sections:
        if not parsed.preamble:
            raise SectionError("empty text")
        return Example(output=parsed.preamble, style=STYLE_PLAIN, text=text)
    return sections_to_example(parsed, text)
