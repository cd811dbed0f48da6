"""Python: run in-process by the zygote's children (no compile step).

What the zygote imports once, so that programs get these modules for free.
"""

NAME = "python"

# Standard-library modules LLM-written programs commonly import.
PREIMPORT = (
    "math",
    "cmath",
    "collections",
    "collections.abc",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "re",
    "string",
    "typing",
    "random",
    "statistics",
    "fractions",
    "decimal",
    "datetime",
    "json",
    "copy",
    "operator",
    "array",
    "dataclasses",
    "enum",
    "hashlib",
    "textwrap",
    "unicodedata",
    "io",
    "struct",
    "numbers",
    "queue",
    "time",
    "calendar",
)

# Scored by every slot when it starts, before any real job: a right and a wrong answer to a
# trusted assert, a snippet the test process runs, and a stdin/stdout run. A sandbox that gets
# these wrong (a changed firejail profile, a broken interpreter) must not score anyone's programs.
SELF_TEST = (
    (
        {
            "id": "self-test/tests",
            "program": "def add(a, b):\n    return a + b\n",
            "tests": ["assert add(1, 2) == 3", "assert add(1, 2) == 4", "x = add(2, 2)\nassert x == 4"],
        },
        ("passed", "failed", "passed"),
    ),
    (
        {
            "id": "self-test/stdio",
            "program": "print(sum(map(int, input().split())))\n",
            "tests": [{"stdin": "1 2\n", "expected_stdout": "3\n"}, {"stdin": "2 2\n", "expected_stdout": "5\n"}],
        },
        ("passed", "failed"),
    ),
)
