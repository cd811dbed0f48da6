"""Python: run in-process by the zygote's children (no compile step).

What the zygote imports once so that programs get these modules for free,
and a self-test that a freshly started slot must pass.
"""

NAME = "python"
SOURCE_SUFFIX = ".py"

# Standard-library modules LLM-written programs commonly import.
PREIMPORT = (
    "math", "cmath", "collections", "collections.abc", "itertools", "functools", "heapq",
    "bisect", "re", "string", "typing", "random", "statistics", "fractions", "decimal",
    "datetime", "json", "copy", "operator", "array", "dataclasses", "enum", "hashlib",
    "textwrap", "unicodedata", "io", "struct", "numbers", "queue", "time", "calendar",
)

SELF_TEST = {
    "program": "def add(a, b):\n    return a + b\n",
    "tests": ["assert add(1, 2) == 3", "assert add('a', 'b') == 'ab'"],
}
