"""TextGen Studio: fine-tune and use text-generation models from the browser.

Run:  python app.py            (or `bash scripts/run.sh`, which also installs what is needed)
Also the Hugging Face Spaces entry point (sdk: gradio, app_file: app.py).

The page is a Gradio Blocks app mounted on a FastAPI server that also serves the
OpenAI-compatible API under /v1. Training runs in separate processes started by the job
runner; nothing heavy (torch, transformers) is imported while the page is built.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if __name__ == "__main__":  # before the heavy imports: the process may start once more
    from studio.hugepages import restart_with_huge_pages

    restart_with_huge_pages()  # huge pages for the fast engine's weights (studio/hugepages.py)

import fastapi  # noqa: E402
import gradio as gr  # noqa: E402
from gradio.oauth import _add_oauth_routes  # noqa: E402  (Gradio's own Hugging Face OAuth routes)
from gradio.utils import get_upload_folder  # noqa: E402

from studio.api import build_openai_router  # noqa: E402
from studio.generate.engine import get_engine  # noqa: E402
from studio.jobs import JobRunner  # noqa: E402
from studio.models.prepare import prepare_in_background  # noqa: E402
from studio.settings import PROJECT_ROOT, Settings  # noqa: E402
from studio.signin import install_sign_in  # noqa: E402
from studio.signin.uploads import UploadOwners  # noqa: E402
from studio.store import Store  # noqa: E402
from studio.ui.context import UIContext  # noqa: E402
from studio.ui.layout import build_blocks  # noqa: E402

log = logging.getLogger("studio")


def create_server(settings: Settings | None = None, start_runner: bool = True):
    """Build (fastapi_app, blocks, ctx) without starting to serve."""
    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    if removed := settings.clean_tmp():
        log.info("removed %d leftover folder(s) from %s", removed, settings.tmp_dir)
    store = Store(settings.db_path, files_root=settings.apps_dir)
    runner = JobRunner(store, settings)
    if start_runner:
        runner.start()
    # Who sent each file of Gradio's upload folder (read by its uploader only).
    uploads = UploadOwners(folder=get_upload_folder) if settings.signed_in else None
    ctx = UIContext(settings=settings, store=store, runner=runner, uploads=uploads)
    blocks = ctx.blocks = build_blocks(ctx)
    api = fastapi.FastAPI(title="TextGen Studio")
    auth_dependency = install_sign_in(
        api, store, settings, add_hf_routes=_add_oauth_routes, uploads=uploads
    )
    if not settings.signed_in and not settings.loopback:
        log.warning(
            "SIGN-IN IS OFF while listening on %s: anyone who reaches this port can see, "
            "change and delete every app. Set STUDIO_USERS (or hf_oauth on a Space).",
            settings.host,
        )
    # The page and /v1 share one engine (one model cache) and one bound on generations.
    api.include_router(
        build_openai_router(settings, store, engine=get_engine(settings, store), slots=ctx.slots)
    )
    # Exports are served from their own folder (not copied into Gradio's cache, where they
    # would escape the storage count and the owner check of studio.signin.files).
    gr.set_static_paths([settings.home / "exports"])
    app = gr.mount_gradio_app(
        api,
        blocks,
        path="/",
        max_file_size=f"{settings.max_upload_mb}mb",
        footer_links=["api", "settings"],
        # Gradio's run history keeps every call's inputs and outputs (prompts, answers) in
        # the browser's storage and rewrites the whole list, up to 100 calls, on every status
        # message of every event: on this page that was most of a click's work while a job
        # trained. It also offers to copy them to a remote bucket. Off: nothing is recorded.
        run_history=False,
        allowed_paths=[str(settings.home / "exports")],
        blocked_paths=[str(settings.db_path)],
        theme=gr.themes.Soft(primary_hue="indigo"),
        css_paths=[PROJECT_ROOT / "assets" / "studio.css"],
        head_paths=[PROJECT_ROOT / "assets" / "studio_head.html"],
        show_error=True,
        auth_dependency=auth_dependency,
    )
    # mount_gradio_app never marks the Blocks launched, and Gradio skips its own "was this
    # file uploaded?" check (processing_utils._check_allowed) until it is: without this, a
    # path sent through the API is copied into the cache before any handler runs. Handlers
    # still check every file themselves (studio.ui.uploads.trusted_upload).
    blocks.has_launched = True
    return app, blocks, ctx


def main() -> None:
    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env()
    app, _, ctx = create_server(settings)
    # Convert the packaged model now, beside the page, so the first click that needs it
    # (a demo app, an upload's token counts, Train) waits less or not at all.
    prepare_in_background(settings)
    print(f"TextGen Studio on http://{settings.host}:{settings.port}  (data in {settings.home})")
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        ctx.runner.stop()


if __name__ == "__main__":
    main()
