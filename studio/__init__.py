"""TextGen Studio: a browser studio for fine-tuning and using text-generation models."""

__version__ = "0.1.0"
