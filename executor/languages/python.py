"""Python: run in-process by the zygote's children (no compile step).

What the zygote imports once, so that programs get these modules for free, and the packages
beyond the standard library that programs may import (the runtime of SandboxFusion's Python
mode that Debian packages): Debian's builds under DIST_PACKAGES, read-only in the sandbox,
importable by these top-level names only (sandbox/packages.py), never the rest of that
directory (apt, dbus...).
"""

NAME = "python"

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
# Top-level import name -> the Debian package that provides it (`make setup` installs them).
PACKAGES = {
    "numpy": "python3-numpy",
    "sortedcontainers": "python3-sortedcontainers",
    "sympy": "python3-sympy",
    "mpmath": "python3-mpmath",  # sympy's arithmetic
    "networkx": "python3-networkx",
    "regex": "python3-regex",
    "dateutil": "python3-dateutil",
    "six": "python3-six",  # dateutil's
}
# Packages the zygote may import too (ExecutorConfig.preimport_packages; none by default): numpy's
# import costs a program ~44 ms of CPU, ~2 ms once the fork server holds it, but every fork then
# copies its mappings: HumanEval's programs/s fell 14% (520 -> 448 on 2 slots) with it imported.
PREIMPORT_PACKAGES: tuple[str, ...] = ()
ETC = ("alternatives",)  # /etc entries the packages read: the BLAS libraries are alternatives links
# Numerical libraries start a thread per CPU at import; a program may start none of its own.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "BLIS_NUM_THREADS": "1"}


def installed_packages(names: "tuple[str, ...] | None" = None) -> tuple[str, ...]:
    """The packages of `names` (None: all of PACKAGES) that this machine has."""
    import os

    chosen = tuple(PACKAGES) if names is None else names
    return tuple(
        n
        for n in chosen
        if n in PACKAGES
        and (os.path.isdir(os.path.join(DIST_PACKAGES, n)) or os.path.isfile(os.path.join(DIST_PACKAGES, n + ".py")))
    )


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
