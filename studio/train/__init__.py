"""Training in its own process: `python -m studio.train RUN_DIR [--resume]`.

Reads RUN_DIR/config.json (a TrainRun, studio.configs.runs), trains
with transformers' Trainer + peft, and writes into RUN_DIR: metrics.jsonl (one JSON object per
logging step / evaluation), train.log (stdout/stderr), checkpoints/, adapter/ (the trained
adapter or full model + tokenizer + studio.json) and status.json at exit. A file RUN_DIR/STOP,
SIGTERM or Ctrl-C stops after the current step with a checkpoint and the adapter saved.

Nothing here is imported by the page; the job runner reaches it only as a subprocess.
"""
