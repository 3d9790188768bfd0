"""The Train tab: tab.py (layout, wiring, the poll), handlers.py, views.py (a job's status
line, progress bar, chart data, the jobs table), plan.py (what a model configuration will do
when trained)."""
