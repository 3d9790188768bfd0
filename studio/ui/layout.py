"""The page: a header, the shared hidden components, and one tab per step of the flow."""

from __future__ import annotations

import gradio as gr

from studio.ui.apps.tab import build_apps_tab
from studio.ui.context import UIContext
from studio.ui.evaluate.tab import build_evaluate_tab
from studio.ui.generate.tab import build_generate_tab
from studio.ui.id_guard import guard_events
from studio.ui.inputs.tab import build_inputs_tab
from studio.ui.models.tab import build_models_tab
from studio.ui.page_errors import errors_in_messages
from studio.ui.progress import narrow_progress_targets
from studio.ui.settings.handlers import sign_in_banner
from studio.ui.settings.panel import build_settings_panel
from studio.ui.train.handlers import is_training
from studio.ui.train.tab import TRAIN_TAB, build_train_tab

CACHE_CLEANING = (3600, 24 * 3600)  # (every, older than) in seconds


def build_blocks(ctx: UIContext) -> gr.Blocks:
    # Uploads and copies in Gradio's cache older than a day are deleted every hour (and all
    # of them when the server stops): they count against their uploader's storage meanwhile.
    with gr.Blocks(title="TextGen Studio", delete_cache=CACHE_CLEANING) as blocks:
        gr.Markdown(
            "# TextGen Studio\nFine-tune and use text-generation models: "
            "**Apps → Inputs → Models → Train → Generate → Evaluate / Export**",
            elem_classes=["studio-header"],
        )
        warning = sign_in_banner(ctx)
        if warning:
            gr.Markdown(warning, elem_id="signin-warning")
        build_settings_panel(ctx)
        ctx.browser_app = gr.BrowserState("", storage_key="textgen-studio-app")
        ctx.app_id = gr.Textbox(visible="hidden", elem_id="current-app-id")
        ctx.data_changed = gr.Textbox(visible="hidden")
        ctx.models_changed = gr.Textbox(visible="hidden")
        ctx.jobs_changed = gr.Textbox(visible="hidden")
        ctx.carries(ctx.browser_app, "app")
        ctx.carries(ctx.app_id, "app")
        with gr.Tabs(elem_id="studio-tabs") as tabs:
            build_apps_tab(ctx)
            build_inputs_tab(ctx)
            build_models_tab(ctx)
            build_train_tab(ctx)
            build_generate_tab(ctx)
            build_evaluate_tab(ctx)
        keep_only_tabs(tabs)
        poll_only_shown_tab(tabs, ctx.polls)

        def restore_app(saved: str):
            # A reload keeps the chosen app, unless it was deleted meanwhile; while the app
            # trains, it opens on the Train tab (with its poll on) to show the job.
            app_id = saved if ctx.current_app(saved) else ""
            if not is_training(ctx, app_id):
                return app_id, gr.skip(), *[gr.skip()] * len(ctx.polls)
            timers = [gr.Timer(active=tab == TRAIN_TAB) for tab in ctx.polls]
            return app_id, gr.Tabs(selected=TRAIN_TAB), *timers

        blocks.load(
            restore_app,
            inputs=[ctx.browser_app],
            outputs=[ctx.app_id, tabs, *ctx.polls.values()],
            api_name="restore_app",
        )
        # Whatever sets app_id also remembers it in the browser.
        ctx.app_id.change(None, inputs=[ctx.app_id], outputs=[ctx.browser_app], js="(a) => a")
    narrow_progress_targets(blocks)
    guard_events(ctx, blocks)  # every id an event reads is the caller's, or blank
    errors_in_messages(blocks)  # after narrow_progress_targets: it reads the targets
    return blocks


def keep_only_tabs(tabs: gr.Tabs) -> None:
    """Move what a tab builder made inside gr.Tabs but outside its gr.Tab (a gr.State
    created beside the wiring) out of the tab bar, just after it.

    The page numbers each tab by its place among all of the Tabs' children but lists the
    tabs by their place among the tabs alone: a State before a tab shifted that tab's
    number, and the tab bar showed it twice once it had been opened.
    """
    strays = [c for c in tabs.children if not isinstance(c, gr.Tab)]
    if not strays or tabs.parent is None:
        return
    tabs.children = [c for c in tabs.children if isinstance(c, gr.Tab)]
    siblings = tabs.parent.children
    at = siblings.index(tabs) + 1
    siblings[at:at] = strays
    for stray in strays:
        stray.parent = tabs.parent


def poll_only_shown_tab(tabs: gr.Tabs, polls: dict[str, gr.Timer]) -> None:
    """Selecting a tab starts its own poll and stops the others.

    A visited tab stays in the page, hidden, and its poll kept ticking there: every tick
    marks its outputs pending and a changed chart or table is drawn again, work that slows
    the tab the user is on. Polls start paused (the page opens on Apps); a tab that polls
    also refreshes when it is shown, so it never waits a tick to show news.
    """
    if not polls:
        return
    timers = list(polls.values())
    for tab in tabs.children:
        if isinstance(tab, gr.Tab):
            # One queue slot for every tab's switch: the answers of two quick tab clicks
            # arrive in click order, so the last tab shown decides which poll runs.
            tab.select(
                _set_polls([tab.id == owner for owner in polls]),
                None,
                timers,
                show_progress="hidden",
                api_visibility="private",
                api_name="set_polls",
                concurrency_limit=1,
                concurrency_id="tab-polls",
            )


def _set_polls(active: list[bool]):
    def set_polls():
        updates = tuple(gr.Timer(active=a) for a in active)
        return updates[0] if len(updates) == 1 else updates

    return set_polls
