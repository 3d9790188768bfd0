"""The Generate tab: tab.py (layout, wiring), handlers.py, form.py (the form's fields ->
PromptInput and GenerationOptions), notes.py (the instruction a trained model learned; is
training using the CPU)."""
