"""What the Inputs tab shows, as plain Python values (no Gradio here, so it is easy to test):
counts, rejected rows, the versions list, a preview rendered exactly as the model sees it,
stats text and the data for the token-length and label charts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from studio.data.shapes import SHAPES
from studio.data.validate import REASON_KINDS, Reject, printable
from studio.prompts.render import render
from studio.vocab.examples import Example

EXCERPT_CHARS = 160
VERSION_HEADERS = [
    "Dataset",
    "Version",
    "Read as",
    "Accepted",
    "Rejected",
    "Duplicates",
    "Train",
    "Valid",
    "Task",
    "Created",
    "Hash",
]
# Per column of VERSION_HEADERS: the counts stay narrow so that all of them fit beside a
# long "Read as" (which wraps).
VERSION_WIDTHS = ["11%", "7%", "16%", "8%", "8%", "9%", "5%", "5%", "12%", "9%", "10%"]
REJECT_HEADERS = ["File", "Row", "Reason", "Text"]
PREVIEW_HEADERS = ["#", "Prompt (exactly as the model sees it)", "Target (what it learns)"]


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = printable(text).replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counts_markdown(report: dict) -> str:
    """One summary paragraph for a finished upload."""
    lines = [
        f"**{report['dataset']} v{report['version']}** created "
        f"(hash `{report['content_hash'][:12]}`): **{report['n_accepted']} accepted**, "
        f"**{report['n_rejected']} rejected** ({report['n_duplicates']} duplicates) "
        f"of {report['n_rows']} rows."
    ]
    if report.get("n_blank"):
        lines.append(f"{report['n_blank']} blank line(s) skipped.")
    if report.get("reasons"):
        words = {kind: words for words, kind in REASON_KINDS}
        reasons = ", ".join(f"{words.get(k, k)}: {v}" for k, v in report["reasons"].items())
        lines.append(f"Rejected by reason: {reasons}.")
    shapes = {m.get("shape") for m in report.get("mappings", {}).values()}
    if shapes:
        read_as = sorted(SHAPES.get(s, s) for s in shapes if s)  # the names the form shows
        lines.append(f"Read as: {', '.join(read_as)}.")
    lines.extend(report.get("notes", []))
    return "\n\n".join(lines)


def reject_rows(rejects: Sequence[Reject | dict], limit: int = 500) -> list[list]:
    """Rows for the rejects table (the download holds all of them)."""
    rows = []
    for r in rejects[:limit]:
        if isinstance(r, dict):
            rows.append([r["source"], int(r["row"]), r["reason"], excerpt(r["text"])])
        else:
            rows.append([r.source, r.row, r.reason, excerpt(r.text)])
    return rows


def version_rows(versions: Sequence[dict]) -> list[list]:
    """Rows for the versions table, newest first as the store lists them."""
    rows = []
    for v in versions:
        stats = v.get("stats") or {}
        created = dt.datetime.fromtimestamp(v["created_at"]).strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                v.get("dataset_name", ""),
                v["version"],
                mapping_text(stats),
                v["n_accepted"],
                v["n_rejected"],
                v["n_duplicates"],
                stats.get("n_train", ""),
                stats.get("n_valid", ""),
                stats.get("task", ""),
                created,
                v["content_hash"][:12],
            ]
        )
    return rows


def mapping_text(stats: dict) -> str:
    """How a version's sources were read, in the form's words: shape, columns, instruction
    (so two versions of the same file with different mappings tell apart)."""
    parts = []
    for m in (stats.get("mappings") or {}).values():
        cols = " → ".join(
            m[k] for k in ("text", "instruction", "input", "output", "messages") if m.get(k)
        )
        text = SHAPES.get(m.get("shape", ""), m.get("shape", ""))
        # A shape whose name already gives its column ("Clarifai template
        # (input.data.text.raw)") is not followed by the same column again.
        text += f" ({cols})" if cols and not text.endswith(f"({cols})") else ""
        if m.get("instruction_text"):
            text += f"; instruction: “{excerpt(m['instruction_text'], 60)}”"
        parts.append(text)
    return " | ".join(dict.fromkeys(parts))


def version_choices(versions: Sequence[dict]) -> list[tuple[str, str]]:
    return [
        (f"{v.get('dataset_name', '')} v{v['version']} ({v['n_accepted']} examples)", v["id"])
        for v in versions
    ]


def preview_rows(examples: Sequence[Example], n: int = 20) -> list[list]:
    """The first examples rendered with the same render() training uses."""
    rows = []
    for i, ex in enumerate(examples[:n], start=1):
        prompt, target = render(ex, "sections")
        rows.append([i, prompt, target])
    return rows


def stats_markdown(version: dict, token_note: str = "") -> str:
    stats = version.get("stats") or {}
    parts = [
        f"**{stats.get('n_examples', version['n_accepted'])} examples**: "
        f"{stats.get('n_train', '?')} train / {stats.get('n_valid', '?')} validation "
        f"({version['valid_pct']:g} %, seed {version['seed']}"
        f"{', stratified by label' if stats.get('stratified') else ''}). "
        f"Task: **{stats.get('task', '?')}**."
    ]
    if stats.get("labels"):
        parts.append(f"Labels: {', '.join(stats['labels'])}.")
    tokens = stats.get("token_lengths") or {}
    if tokens:
        sampled = f" (a sample of {tokens['n_measured']})" if tokens.get("sampled") else ""
        if tokens.get("tokenizer"):
            sampled += f" with the {tokens['tokenizer']} tokenizer"
        parts.append(
            f"Tokens per example{sampled}: mean {tokens['mean']}, median "
            f"{tokens['p50']}, 95th percentile {tokens['p95']}, max {tokens['max']}."
        )
    elif token_note:
        parts.append(f"No token-length histogram: {token_note}.")
    return "\n\n".join(parts)


def histogram_data(stats: dict) -> tuple[list[str], list[int]]:
    """(bin labels like '32-47', counts) of the token-length histogram; empty when none."""
    hist = (stats.get("token_lengths") or {}).get("histogram")
    if not hist:
        return [], []
    w = hist["width"]
    labels = [f"{s}" if w == 1 else f"{s}-{s + w - 1}" for s in hist["starts"]]
    return labels, list(hist["counts"])


def label_data(stats: dict) -> tuple[list[str], list[int]]:
    counts = stats.get("label_counts") or {}
    return list(counts), list(counts.values())
