"""Generation: load base + adapter (cached), stream with every decoding strategy, compare
a tuned model with its base (studio.api serves the engine as an OpenAI-compatible HTTP API).

Public entry points: studio.generate.engine.get_engine(settings, store) -> Engine,
GenerationOptions (options.py), PromptInput (prompting.py), list_models (refs.py).
"""
