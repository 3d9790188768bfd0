"""Where each event shows its progress: on the few components that display a result, never
on the whole page.

Gradio's page keeps a loading status for every component that any event has marked pending
since the page opened (the "progress targets": an event's outputs unless `show_progress_on`
names others), and on every status change of any event it hands every one of those statuses
back to its component, which first copies all of the component's properties (and, for a row
or group, of everything inside it). With the default targets (every output) a Validate
click or a job selection copied ~190 components' properties, 4,500 values, two or three
times per event: 100-300 ms of the browser's main thread on a 2-core machine while a job
trains. Narrowing the targets keeps that list short and free of containers.

The rule, for events that do not name their targets: a hidden progress needs no target at
all; a shown one goes on the outputs that display a short result (text, a chat, a file to
download), not on tables or charts (each status would copy every row or point), not on
inputs the user types into, not on layout, and not on invisible values.
"""

from __future__ import annotations

import gradio as gr

# Components that show a short result; a spinner over them tells the user what is coming.
# Not tables and charts: their status would copy every row or point each time.
_DISPLAYS = (gr.Markdown, gr.HTML, gr.Chatbot)


def _displays_result(component) -> bool:
    if isinstance(component, gr.blocks.BlockContext) and not isinstance(component, gr.HTML):
        return False  # a row or group: its status would copy everything inside it
    if isinstance(component, _DISPLAYS):
        return True
    # A read-only text box or file (an export's download) displays a result; an editable one
    # is an input the spinner would cover.
    return isinstance(component, (gr.Textbox, gr.File)) and component.interactive is False


def narrow_progress_targets(blocks: gr.Blocks) -> int:
    """Give every event without `show_progress_on` the narrow targets above; the number of
    events changed."""
    changed = 0
    for fn in blocks.fns.values():
        if fn.show_progress_on is not None:
            continue
        if fn.show_progress == "hidden":
            fn.show_progress_on = []
        else:
            fn.show_progress_on = [o for o in fn.outputs if _displays_result(o)]
        changed += 1
    return changed
