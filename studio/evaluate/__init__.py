"""Evaluation of trained models, as a job process: perplexity, classification and text
metrics, batch comparison (`python -m studio.evaluate RUN_DIR`, see __main__).

The page builds the run's config and queues it (studio.actions.start_evaluation) and reads
results.json. Nothing here imports torch at import time.
"""
