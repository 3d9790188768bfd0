"""The Inputs tab: tab.py (layout, wiring), handlers.py, preview.py (counts, rejected rows,
versions table, the prompt preview, stats text), mapping.py (what a detected column mapping
was guessed from)."""
