"""The normalised example every reader produces and training / generation both consume."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# How the sections of an example are laid out when rendered back to text.
STYLE_HUMAN_ASSISTANT = "human_assistant"  # ### Instruction / ### Human / ### Assistant
STYLE_INPUT_RESPONSE = "input_response"  # ### Instruction / ### Input / ### Response
STYLE_PLAIN = "plain"  # no sections: the whole text is what the model learns
STYLES = (STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, STYLE_PLAIN)


@dataclass(frozen=True)
class Example:
    """One training example.

    instruction: the task ("What is the sentiment..."); may be empty.
    input: the material the task applies to (### Human / ### Input); may be empty.
    output: what the model must learn to produce (### Assistant / ### Response, or the whole
        text for STYLE_PLAIN). Never empty in an accepted example.
    preamble: text before the first ### (e.g. "Below is an instruction that...").
    style: one of STYLES; decides the section names when rendering.
    text: the original text of the example, kept exactly.
    meta: facts kept beside the example but not trained on, e.g. "label": the concept of a
        Clarifai row (it is also the output when the row's text has no answer of its own).
    """

    instruction: str = ""
    input: str = ""
    output: str = ""
    preamble: str = ""
    style: str = STYLE_HUMAN_ASSISTANT
    text: str = ""
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Example:
        keys = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in d.items() if k in keys})
