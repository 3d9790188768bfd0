"""`python -m studio.models.prepare`: convert the packaged default model now (once).

scripts/run.sh calls it before starting the page so the first Train or Generate click does
not wait for the conversion. A second run returns at once.
"""

from __future__ import annotations

import sys

from studio.errors import StudioError
from studio.models.resolve import ensure_packaged_model, packaged_model_dir
from studio.settings import Settings


def main() -> int:
    settings = Settings.from_env()
    if (packaged_model_dir(settings) / "config.json").is_file():
        return 0
    print("Preparing the embedded SmolLM2-135M-Instruct model (once, about 30 s)...")
    try:
        path = ensure_packaged_model(settings)
    except StudioError as exc:
        print(f"warning: {exc}", file=sys.stderr)
        return 0  # the studio still starts; templates show the model as unavailable
    print(f"Model ready in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
