"""A generation option as one row: name, type, valid range, default, the form's label and
slider range, and its own check. The common options (every strategy) are listed here; each
strategy's own options live in its row of studio.generate.strategies.

No torch, no gradio: the page, /v1 and the engine read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.configs.fields import is_int, is_number
from studio.errors import ConfigError

Problems = list[tuple[str, str]]  # (field name, what is wrong with it)

MAX_STOP_SEQUENCES = 8
MAX_RETURN_SEQUENCES = 8
SEED_LIMIT = 2**32


class OptionsError(ConfigError):
    """Invalid generation options; `fields` names the offending option per problem."""

    def __init__(self, problems: Problems):
        self.fields = [name for name, _ in problems]
        super().__init__([f"{name}: {msg}" for name, msg in problems])


@dataclass(frozen=True)
class Field:
    """One option. `low`/`high` bound the valid values (`open_low`: strictly above `low`);
    `ui_low`/`ui_high` narrow the form's slider where the valid range is wider than useful;
    `choices` (value, or (label, value)) makes it a choice; `api` exposes it on /v1."""

    name: str
    kind: type  # int, float, bool, str (a choice), list (of strings), or type(None) (seed)
    default: Any
    low: float | None = None
    high: float | None = None
    label: str = ""
    step: float | None = None
    open_low: bool = False
    choices: tuple = ()
    ui_low: float | None = None
    ui_high: float | None = None
    api: bool = True  # a /v1 extension parameter (OpenAI's own names are mapped apart)
    note: str = ""  # said after the range in an error ("1 = off")

    @property
    def values(self) -> tuple:
        """The allowed values of a choice field."""
        return tuple(c[1] if isinstance(c, tuple) else c for c in self.choices)

    @property
    def slider(self) -> tuple[float, float]:
        """(low, high) of the form's slider."""
        low = self.ui_low if self.ui_low is not None else self.low
        high = self.ui_high if self.ui_high is not None else self.high
        return float(low or 0), float(high if high is not None else 1)

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this field, or None."""
        if self.choices:
            if value in self.values:
                return None
            return f"{value!r} is not allowed; choose one of {', '.join(map(str, self.values))}"
        if self.kind is bool:
            return None if isinstance(value, bool) else f"must be true or false; got {value!r}"
        if self.kind is list:
            ok = isinstance(value, list) and all(isinstance(s, str) and s for s in value)
            if ok and len(value) <= MAX_STOP_SEQUENCES:
                return None
            return f"must be a list of at most {MAX_STOP_SEQUENCES} non-empty strings"
        if self.kind is type(None):  # the seed: empty or a whole number
            if value is None or (is_int(value) and 0 <= value < SEED_LIMIT):
                return None
            return f"must be empty or a whole number from 0 to {SEED_LIMIT - 1}; got {value!r}"
        number = is_int(value) if self.kind is int else is_number(value)
        in_range = number and not (
            (self.low is not None and (value <= self.low if self.open_low else value < self.low))
            or (self.high is not None and value > self.high)
        )
        if in_range:
            return None
        what = "a whole number" if self.kind is int else "a number"
        span = (
            f"above {_fmt(self.low)} and at most {_fmt(self.high)}"
            if self.open_low
            else f"from {_fmt(self.low)} to {_fmt(self.high)}"
        )
        note = f" ({self.note})" if self.note else ""
        return f"must be {what} {span}{note}; got {value!r}"


def _fmt(x: float | None) -> str:
    return "any" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


# Options several strategies may share are defined once here.
TEMPERATURE = Field(
    "temperature",
    float,
    0.7,
    0,
    2,
    "Temperature",
    step=0.05,
    open_low=True,
    ui_low=0.05,
    note="use the greedy strategy for temperature 0",
    api=False,  # OpenAI's own parameter, mapped in studio.api.request
)
TOP_K = Field("top_k", int, 50, 0, 1000, "Top-k (0 = off)", ui_high=200, note="0 = off")
TOP_P = Field("top_p", float, 1.0, 0, 1, "Top-p (1 = off)", step=0.05, open_low=True, ui_low=0.05)
TYPICAL_P = Field(
    "typical_p", float, 1.0, 0, 1, "Typical-p (1 = off)", step=0.05, open_low=True, ui_low=0.05
)
MIN_P = Field("min_p", float, 0.0, 0, 0.99, "Min-p (0 = off)", step=0.01, ui_high=0.5)
NUM_BEAMS = Field("num_beams", int, 4, 2, 16, "Beams")
LENGTH_PENALTY = Field(
    "length_penalty", float, 1.0, -10, 10, "Length penalty", step=0.1, ui_low=-2, ui_high=2
)
EARLY_STOPPING = Field("early_stopping", bool, True, label="Early stopping")

# The options every strategy has, in the form's order.
PRECISIONS = (
    ("Exact (fp32)", "exact"),
    ("Fast (ONNX Runtime GenAI, int8 weights; converted once)", "fast"),
)
COMMON_FIELDS: tuple[Field, ...] = (
    Field("max_new_tokens", int, 64, 1, 1_000_000, "Max new tokens", ui_high=1024, api=False),
    Field("min_new_tokens", int, 0, 0, 1_000_000, "Min new tokens", ui_high=512),
    Field(
        "repetition_penalty",
        float,
        1.0,
        0,
        10,
        "Repetition penalty (1 = off)",
        step=0.05,
        open_low=True,
        ui_low=0.5,
        ui_high=2,
        note="1 = off",
    ),
    Field(
        "no_repeat_ngram_size",
        int,
        0,
        0,
        20,
        "No-repeat n-gram size (0 = off)",
        ui_high=10,
        note="0 = off",
    ),
    Field(
        "stop",
        list,
        [],
        label="Stop sequences (one per line; \\n for a newline)",
        api=False,
    ),
    Field(
        "num_return_sequences",
        int,
        1,
        1,
        MAX_RETURN_SEQUENCES,
        "Returned sequences",
        api=False,
    ),
    Field("seed", type(None), None, label="Seed (empty = random)", api=False),
    Field(
        "precision",
        str,
        "exact",
        label="Speed: the stats line says which engine answered",
        choices=PRECISIONS,
    ),
)
