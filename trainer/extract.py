"""The program in a model completion: broker/extract.py, where the farm's HTTP reward endpoint
uses it too (the trainer depends on the broker, never the other way)."""

from broker.extract import called_names, extract_code, fenced_blocks

__all__ = ["called_names", "extract_code", "fenced_blocks"]
