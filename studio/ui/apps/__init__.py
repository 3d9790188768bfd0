"""The Apps tab: tab.py (layout, wiring), handlers.py, views.py (tables, notes)."""
