"""Resolve and load base models: a local folder, the packaged SmolLM2, or a Hub id."""
