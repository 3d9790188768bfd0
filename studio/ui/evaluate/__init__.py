"""The Evaluate / Export tab: tab.py (layout, wiring), handlers.py, progress.py (metrics that
fit a task; a running evaluation's progress), report.py (results.json -> tables, confusion
heat map, ROC points, summaries)."""
