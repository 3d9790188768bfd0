"""The words every package shares: the example and its section styles, model types, methods.

This package sits at the bottom of the import graph: it imports nothing from the studio, so
data, prompts, templates, configs, training and generation can all use it without a loop.
"""
