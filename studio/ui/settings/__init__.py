"""The Settings panel: panel.py (layout, wiring), handlers.py (who you are, API keys, the
sign-in warning)."""
