"""medsyn: synthetic medical tabular data from local quantized LLMs, evaluated honestly."""

__version__ = "0.1.0"
