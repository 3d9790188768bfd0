"""Glue between the Generate tab's form fields and the engine (no gradio, no torch here).

The tab's handlers take the form values as named parameters, which are also the parameter
names of the Gradio API endpoints (/generate, /compare, /chat), so gradio_client callers
can pass just what they need:  client.predict(model="job:…", instruction="…",
strategy="sample", seed=1, api_name="/generate").
"""

from __future__ import annotations

import inspect
from typing import Any

from studio.generate.options import OPTION_TABLE, GenerationOptions
from studio.generate.prompting import PromptInput
from studio.generate.strategies import STRATEGY_TABLE

MODE_LABELS = {"Instruction": "instruction", "Free text": "text", "Chat": "chat"}

# Form parameter names, in the order the tab passes them (after the prompt fields): the
# strategy, the common options, then each strategy's own (all from the option table).
OPTION_FIELDS = ("strategy", *OPTION_TABLE)
_INTS = {name for name, f in OPTION_TABLE.items() if f.kind is int}

# Which parameters each strategy uses (the tab shows only these), from the strategy table.
STRATEGY_FIELDS = {s.name: s.field_names() for s in STRATEGY_TABLE}
# The fields shown only for the strategies that use them.
TOGGLED_FIELDS = tuple(dict.fromkeys(n for names in STRATEGY_FIELDS.values() for n in names))


def options_from_form(values: dict[str, Any]) -> GenerationOptions:
    """GenerationOptions from form values (sliders give floats, the stop box is one per line)."""
    kw: dict[str, Any] = {}
    for name in OPTION_FIELDS:
        value = values.get(name)
        if value is None or value == "":
            continue
        if name in _INTS and isinstance(value, float) and value.is_integer():
            value = int(value)
        if name == "seed":
            value = _seed(value)
            if value is None:
                continue
        if name == "stop":
            value = [s.replace("\\n", "\n") for s in str(value).splitlines() if s.strip()]
        kw[name] = value
    return GenerationOptions(**kw).validate()


def _seed(value: Any) -> Any:
    """The seed box's value: None when empty (a random draw), an int for a whole number,
    anything else as typed, for validation to name."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else text


def prompt_from_form(
    mode: str,
    instruction: str = "",
    input_text: str = "",
    text: str = "",
    history: list | None = None,
    message: str = "",
) -> PromptInput:
    """PromptInput for the chosen mode ("Instruction" | "Free text" | "Chat", or the key)."""
    key = MODE_LABELS.get(mode, mode)
    if key == "chat":
        messages = flatten_history(history or [])
        if message and message.strip():
            messages.append({"role": "user", "content": message})
        return PromptInput(mode="chat", messages=messages)
    return PromptInput(
        mode=key, instruction=instruction or "", input=input_text or "", text=text or ""
    )


def flatten_history(history: list) -> list[dict[str, str]]:
    """Gradio 6 chat history (content as a list of parts) -> plain role/content strings."""
    out = []
    for m in history:
        content = m.get("content", "")
        if isinstance(content, list):
            content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        out.append({"role": m.get("role", "user"), "content": str(content)})
    return out


def join_sequences(texts: list[str]) -> str:
    """Several returned sequences in one output box."""
    if len(texts) <= 1:
        return texts[0] if texts else ""
    return "\n\n".join(f"--- sequence {i + 1} ---\n{t}" for i, t in enumerate(texts))


# None: gradio_client treats a parameter as optional when its default is None.
FORM_DEFAULTS = {
    "mode": "Instruction",
    "instruction": None,
    "input_text": None,
    "text": None,
    "compare_with": None,
    "history": None,
    "message": None,
    "stop": None,
}


def named_parameters(fn, names: list[str]):
    """Give a *options handler explicit parameter names and defaults, so the Gradio API (and
    gradio_client keyword calls) name every option and need only the model and the prompt."""
    defaults = {**GenerationOptions().to_dict(), **FORM_DEFAULTS}
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter(n, kind, default=defaults.get(n, inspect.Parameter.empty))
        for n in [*names, *OPTION_FIELDS]
    ]
    fn.__signature__ = inspect.Signature(params)
    return fn
