"""JavaScript on Node.js: the source runs as it is (no build step)."""

from .base import Language
from .c import SUM

LANGUAGE = Language(
    name="javascript",
    title="JavaScript (Node.js)",
    source="main.js",
    run=("{node}", "--max-old-space-size={heap_mb}", "--stack-size=65500", "{source}"),
    keep=(),
    tools=("node",),
    version=("{node}", "--version"),
    packages=("nodejs",),
    threads=32,
    address_space="none",
    heap_share=0.75,
    oom=("JavaScript heap out of memory",),
    env=(("UV_THREADPOOL_SIZE", "1"), ("MALLOC_ARENA_MAX", "2")),
    self_test=(
        "const s = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\n"
        "console.log((s[0] + s[1]).toString());\n",
        SUM,
        ("passed", "failed"),
    ),
)
