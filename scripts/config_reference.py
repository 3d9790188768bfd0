"""Print the README's reference of the stored sections (the five config dicts and the studio
section), from the schemas and the settings table themselves.

    python scripts/config_reference.py            # print the markdown
    python scripts/config_reference.py --write    # replace the block in README.md

The block sits between `<!-- config-reference:start -->` and `<!-- config-reference:end -->`;
a test fails when README.md no longer matches what this prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.configs.setting import SAME  # noqa: E402
from studio.configs.table import ALL_SCHEMAS, SETTINGS  # noqa: E402

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
TITLES = {
    "model": "model: which base model and how it is loaded",
    "quantization": "quantization: BitsAndBytesConfig (QLoRA; CUDA, or a CPU via bitsandbytes' CPU backend)",
    "peft": "peft: LoraConfig",
    "tokenizer": "tokenizer: prompt format and lengths",
    "trainer": "trainer: TrainingArguments",
    "studio": "studio: the studio's own settings (read by the studio, never by a library)",
}
# section.key -> the settings table's default (a run config that leaves the key out gets it)
DEFAULTS = {(s.section, s.key): s.to_dict(s.default) for s in SETTINGS.values() if not s.write}


def _allowed(field) -> str:
    if field.choices and field.kind == "choice":
        return " / ".join(f"`{c}`" for c in field.choices)
    low = getattr(field, "min", None)
    high = getattr(field, "max", None)
    if low is not None and high is not None:
        return f"{field.kind}, {low} … {high}"
    if low is not None:
        return f"{field.kind} ≥ {low}"
    if high is not None:
        return f"{field.kind} ≤ {high}"
    return field.kind


def reference() -> str:
    """The markdown block: one table per stored section."""
    parts = [START]
    for section, fields in ALL_SCHEMAS.items():
        parts += [
            "",
            f"**{TITLES[section]}**",
            "",
            "| key | what it does | allowed | default |",
            "|---|---|---|---|",
        ]
        for key, field in fields.items():
            default = DEFAULTS.get((section, key), "")
            shown = f"`{json.dumps(default)}`" if (section, key) in DEFAULTS else ""
            parts.append(f"| `{key}` | {field.help} | {_allowed(field)} | {shown} |")
    parts += ["", "Where the Models form starts from another value than a run config:", ""]
    for setting in SETTINGS.values():
        if setting.page is not SAME:
            parts.append(f"- `{setting.section}.{setting.key}`: {setting.why}.")
    parts += ["", END]
    return "\n".join(parts)


def main() -> None:
    text = reference()
    if "--write" not in sys.argv:
        print(text)
        return
    readme = ROOT / "README.md"
    body = readme.read_text(encoding="utf-8")
    start, end = body.index(START), body.index(END) + len(END)
    readme.write_text(body[:start] + text + body[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
