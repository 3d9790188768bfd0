"""The Inputs tab's handlers: plain functions of (ctx, *values), wired in tab.py with
common.bind. They detect the column mapping of an upload, create dataset versions, and list
and show the versions of the current app.

The tokenizer for the token-length histogram loads lazily on the first upload and is cached
(studio.data.stats.stats_tokenizer); when it cannot load, the stats say why.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from studio.configs.defaults import template_availability, trains_adapter
from studio.data.instruction import propose_instruction
from studio.data.readers import ACCEPTED_TEXT, read_bytes, read_path
from studio.data.shapes import REQUIRED, SHAPES, ColumnMapping, detect_mapping
from studio.data.stats import stats_tokenizer
from studio.data.versions import create_version, load_examples, pasted_source, version_folder
from studio.errors import DataError, StudioError
from studio.export.paths import export_name, exports_dir
from studio.models.resolve import PACKAGED_REF
from studio.templates import TEMPLATES
from studio.ui.common import NO_APP, bump, user_errors
from studio.ui.context import UIContext
from studio.ui.inputs.mapping import source_key
from studio.ui.inputs.preview import (
    counts_markdown,
    histogram_data,
    label_data,
    preview_rows,
    reject_rows,
    stats_markdown,
    version_choices,
    version_rows,
)
from studio.ui.uploads import trusted_uploads

MAPPING_FIELDS = ("text", "instruction", "input", "output", "messages")
SLANT_AFTER_BARS = 8  # more bars than this: their labels are drawn slanted
NONE_CHOICE = ("(none)", "")


def _rejects_download(ctx: UIContext, app_id: str, version: dict) -> str | None:
    """A copy of rejects.csv in the app's exports, which are served to the app's owner only
    (and counted in their storage)."""
    src = version_folder(ctx.store, version) / "rejects.csv"
    if not src.is_file():
        return None
    out = exports_dir(ctx.settings, app_id) / export_name(version["id"], "rejects", ".csv")
    out.write_bytes(src.read_bytes())
    return str(out)


def token_models(settings) -> list[tuple[str, str]]:
    """(label, base model ref) of the templates' base models this machine has, SmolLM2 first."""
    out: dict[str, str] = {}
    for t in TEMPLATES.values():
        if t.base_model and trains_adapter(t.method) and t.base_model not in out:
            if t.base_model == PACKAGED_REF or template_availability(t, settings)[0]:
                out[t.base_model] = t.base_title
    return [(label, ref) for ref, label in out.items()]


def _bar(labels: list[str], counts: list[int], x: str, title: str):
    if not labels:
        return gr.BarPlot(value=None, visible=False)
    frame = pd.DataFrame({x: labels, "examples": counts})
    # An explicit y range from 0: with equal counts the automatic range collapses to one value
    # and no bar is drawn. Many bars ("112-121" each) slant their labels, or they overlap.
    return gr.BarPlot(
        value=frame,
        x=x,
        y="examples",
        sort=labels,
        title=title,
        visible=True,
        y_lim=[0, max(counts) * 1.1 or 1],
        x_label_angle=-45 if len(labels) > SLANT_AFTER_BARS else 0,
    )


@user_errors
def detect_columns(
    ctx: UIContext, file_list, text: str, typed: str | None = None, before: dict | None = None
):
    """Show the mapping step, pre-filled, when the first source is a table or JSON; for a
    sentence + label table, propose an instruction naming the labels (unless typed)."""
    settings = ctx.settings
    paths = trusted_uploads(file_list)
    if paths:
        result = read_path(paths[0], settings.max_upload_mb, settings.max_rows)
    elif (text or "").strip():
        result = read_bytes(*pasted_source(text), settings.max_upload_mb)
    else:
        return gr.Accordion(visible=False), "", gr.skip(), *[gr.skip()] * 5, {}, gr.skip()
    guess = detect_mapping(result)
    seen = {**guess.to_dict(), "source": source_key(list(paths), text)}
    if result.kind == "lines":
        return gr.Accordion(visible=False), "", "text", *[gr.skip()] * 5, seen, gr.skip()
    proposal = propose_instruction(result, guess)
    # Replace only an empty box or this tab's own earlier proposal, never the user's words.
    ours = not (typed or "").strip() or typed == (before or {}).get("proposed")
    instruction = proposal if proposal and ours else gr.skip()
    if proposal:
        seen["proposed"] = proposal
    choices = [NONE_CHOICE, *[(c, c) for c in result.columns]]
    updates = [gr.Dropdown(choices=choices, value=getattr(guess, f)) for f in MAPPING_FIELDS]
    note = (
        f"Detected **{SHAPES[guess.shape]}** in {result.name} "
        f"({len(result.rows)} rows; columns: {', '.join(result.columns)}). "
        "Change the mapping if the guess is wrong, then press **Create version** (above)."
    )
    if guess.shape == "text" and not guess.text:
        note = (
            f"Which column of {result.name} holds the examples? ({len(result.rows)} "
            f"rows; columns: {', '.join(result.columns)}.) None has a name the studio "
            "knows: **choose the shape and the columns** below."
        )
    if proposal:
        note += " An instruction naming the labels is proposed below: edit it as you like."
    return gr.Accordion(visible=True), note, guess.shape, *updates, seen, instruction


def show_version(ctx: UIContext, version_id: str | None):
    """(preview, stats, histogram, labels) of one version."""
    store = ctx.store
    if not version_id:
        return [], "", gr.BarPlot(visible=False), gr.BarPlot(visible=False)
    version = ctx.version(version_id)
    examples = load_examples(store, version_id, "all")
    note = version.get("stats", {}).get("token_note", "")
    stats = version.get("stats") or {}
    return (
        preview_rows(examples),
        stats_markdown(version, note),
        _bar(*histogram_data(stats), "tokens", "Tokens per example"),
        _bar(*label_data(stats), "label", "Examples per label"),
    )


def listing(ctx: UIContext, app_id: str, chosen: str | None = None):
    """(no-app note, versions table, version picker, picked id)."""
    store = ctx.store
    if not ctx.current_app(app_id):
        return gr.Markdown(visible=True), [], gr.Dropdown(choices=[], value=None), None
    rows = store.list_dataset_versions(app_id)
    ids = [v["id"] for v in rows]
    value = chosen if chosen in ids else (ids[0] if ids else None)
    return (
        gr.Markdown(visible=False),
        version_rows(rows),
        gr.Dropdown(choices=version_choices(rows), value=value),
        value,
    )


@user_errors
def upload_dataset(
    ctx: UIContext,
    app_id,
    file_list,
    text,
    dataset_name,
    pct,
    split_seed,
    shape_key,
    text_col,
    instruction_col,
    input_col,
    output_col,
    messages_col,
    fixed_instruction,
    guess,
    tokenizer_ref=PACKAGED_REF,
):
    """Create a dataset version from the files and the pasted text: (counts, rejects, rejects
    file, versions table, picker, the new version's preview and plots, data_changed)."""
    store, settings = ctx.store, ctx.settings
    if not ctx.current_app(app_id):
        raise StudioError(NO_APP)
    ctx.check_storage()
    sources: list = list(trusted_uploads(file_list))
    if (text or "").strip():
        sources.append(pasted_source(text))
    if not sources:
        raise DataError(f"Choose one or more files ({ACCEPTED_TEXT}) or paste examples.")
    dataset_name = (dataset_name or "").strip() or (
        Path(sources[0]).stem[:80] if isinstance(sources[0], str) else "pasted"
    )
    chosen = ColumnMapping(
        shape_key or "text",
        text_col or "",
        instruction_col or "",
        input_col or "",
        output_col or "",
        messages_col or "",
        (fixed_instruction or "").strip(),
    )
    # Only an edited mapping overrides detection (which runs per file otherwise); without
    # a detected guess (API calls), a complete mapping is taken as meant. A guess made
    # for other data (a paste edited, then Create clicked before the box lost focus) is
    # stale: the shape is detected now, from what is being created.
    guess = dict(guess or {})
    source = guess.pop("source", None)
    guess.pop("proposed", None)
    # An incomplete form is no edit either: Create clicked while the detection of a new file
    # ran sends the form as it was (shape "text", no column) beside the new guess.
    complete = all(getattr(chosen, f) for f in REQUIRED[chosen.shape])
    if source is not None and source != source_key(list(trusted_uploads(file_list)), text):
        mapping = None
    elif guess:
        mapping = None if chosen.to_dict() == guess or not complete else chosen
    else:
        mapping = chosen if complete else None
    tokenizer_ref = tokenizer_ref or PACKAGED_REF
    tokenizer, why = stats_tokenizer(settings, tokenizer_ref)
    names = dict((ref, label) for label, ref in token_models(settings))
    row, report = create_version(
        store,
        settings,
        app_id,
        dataset_name,
        sources,
        mapping,
        valid_pct=pct or 0,
        seed=int(split_seed or 0),
        tokenizer=tokenizer,
        token_note=why,
        tokenizer_name=names.get(tokenizer_ref, tokenizer_ref),
    )
    ctx.audit(
        app_id,
        "uploaded",
        f"{dataset_name} v{row['version']} ({report['n_accepted']} examples)",
    )
    listed = listing(ctx, app_id, row["id"])
    return (
        counts_markdown(report),
        reject_rows(report["rejects"]),
        _rejects_download(ctx, app_id, row) if report["rejects"] else None,
        *listed[1:3],
        *show_version(ctx, row["id"]),
        bump(),
    )


@user_errors
def on_app(ctx: UIContext, app_id: str):
    """A new current app: its versions, the newest one shown, last upload's report cleared."""
    *listed, version_id = listing(ctx, app_id)
    return (*listed, *show_version(ctx, version_id), "", [], None)
