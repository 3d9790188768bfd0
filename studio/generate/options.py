"""GenerationOptions: the decoding strategy and every option, made from the option table.

Its fields are the common options (studio.generate.fields) plus each strategy's own
(studio.generate.strategies), so a strategy's new option is declared once, in its row.
`validate()` collects every mistake into one OptionsError naming each field, and marks the
options checked: the engine validates again only if a value changed since (options are
validated once per request, wherever they came from). No torch here: the page and /v1 build
and check options without loading a model.
"""

from __future__ import annotations

from dataclasses import asdict, astuple, field, fields, make_dataclass
from typing import Any

from studio.generate.fields import COMMON_FIELDS, Field, OptionsError, Problems
from studio.generate.strategies import (
    STRATEGIES,
    STRATEGY_TABLE,
    Strategy,
    strategy_fields,
)

OPTION_TABLE: dict[str, Field] = {f.name: f for f in COMMON_FIELDS}
OPTION_TABLE.update(strategy_fields())


class _Methods:
    """What every GenerationOptions can do (its fields come from OPTION_TABLE)."""

    _checked: tuple | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GenerationOptions:
        """Options from a dict; unknown keys are an error naming them (typos must not pass)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionsError([(k, "is not a generation option") for k in unknown])
        return cls(**values).validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def row(self) -> Strategy:
        """The strategy's table row (validate() refuses an unknown strategy first)."""
        return STRATEGIES[self.strategy]

    @property
    def samples(self) -> bool:
        return self.row.samples

    def validate(self, context_length: int | None = None) -> GenerationOptions:
        """Check every field; raise one OptionsError listing all problems. Returns self."""
        problems: Problems = []
        row = STRATEGIES.get(self.strategy)
        if row is None:
            names = ", ".join(STRATEGIES)
            problems.append(
                ("strategy", f"{self.strategy!r} is not a strategy; choose one of {names}")
            )
        for f in (*COMMON_FIELDS, *(row.fields if row else ())):
            msg = f.problem(getattr(self, f.name))
            if msg:
                problems.append((f.name, msg))
        bad = {name for name, _ in problems}
        if context_length and "max_new_tokens" not in bad and self.max_new_tokens > context_length:
            problems.append(
                (
                    "max_new_tokens",
                    f"must be a whole number from 1 to {context_length} (the context length); "
                    f"got {self.max_new_tokens}",
                )
            )
        if not bad & {"min_new_tokens", "max_new_tokens"}:
            if self.min_new_tokens > self.max_new_tokens:
                problems.append(
                    (
                        "min_new_tokens",
                        f"({self.min_new_tokens}) cannot exceed max_new_tokens "
                        f"({self.max_new_tokens})",
                    )
                )
        if row and "num_return_sequences" not in bad:
            if not row.many and self.num_return_sequences != 1:
                problems.append(
                    (
                        "num_return_sequences",
                        f"the {row.name} strategy returns one sequence; use "
                        f"{' or '.join(s.name for s in STRATEGY_TABLE if s.many)} for more",
                    )
                )
            problems += [p for p in row.checks(self) if p[0] not in bad]
        if problems:
            raise OptionsError(problems)
        self._checked = astuple(self)
        return self

    def checked(self) -> GenerationOptions:
        """self, validated unless already validated with these very values."""
        if self._checked is None or self._checked != astuple(self):
            self.validate()
        return self


def _dataclass_field(f: Field):
    if isinstance(f.default, list):
        return (f.name, Any, field(default_factory=list))
    return (f.name, Any, field(default=f.default))


GenerationOptions = make_dataclass(
    "GenerationOptions",
    [("strategy", str, field(default="greedy"))]
    + [_dataclass_field(f) for f in OPTION_TABLE.values()],
    bases=(_Methods,),
    namespace={"__module__": __name__, "__doc__": __doc__.split("\n\n")[0]},
)
