"""Bash scripts: the source runs as it is; the commands it runs count as its processes."""

from .base import Language
from .c import SUM

LANGUAGE = Language(
    name="bash",
    title="Bash",
    source="main.sh",
    run=("{bash}", "{source}"),
    keep=(),
    tools=("bash",),
    version=("{bash}", "--version"),
    packages=("bash", "coreutils"),
    threads=16,
    forks=True,
    oom=("xmalloc: ", "xrealloc: "),  # "xrealloc: cannot allocate N bytes"
    self_test=("read a b\necho $((a + b))\n", SUM, ("passed", "failed")),
)
