"""The Models tab: tab.py (layout, wiring), handlers.py, widgets.py (built from the settings
table), sync.py (form and JSON editors in step), problems.py (problems named after the form's
fields), config_form.py (field order and labels, form values <-> the stored sections),
views.py (which fields apply, template card, saved-models table)."""
