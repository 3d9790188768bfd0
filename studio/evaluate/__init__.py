"""Evaluation of trained models: perplexity, classification and text metrics, batch comparison.

Heavy work runs in a job (`python -m studio.evaluate RUN_DIR`, see __main__); the page builds
the config with `build_eval_config` and reads results.json. Nothing here imports torch at
import time.
"""

from studio.evaluate.build import METRICS, build_eval_config

__all__ = ["METRICS", "build_eval_config"]
