"""Python: run in-process by the zygote's children (no compile step).

What the zygote imports once, so that programs get these modules for free.
"""

NAME = "python"

# Standard-library modules LLM-written programs commonly import.
PREIMPORT = (
    "math", "cmath", "collections", "collections.abc", "itertools", "functools", "heapq",
    "bisect", "re", "string", "typing", "random", "statistics", "fractions", "decimal",
    "datetime", "json", "copy", "operator", "array", "dataclasses", "enum", "hashlib",
    "textwrap", "unicodedata", "io", "struct", "numbers", "queue", "time", "calendar",
)
