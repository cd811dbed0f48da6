"""Java 17 (OpenJDK): javac, then the JVM on the class that holds `main`.

The file is named after the program's public top-level type (javac requires it); the main class
is the top-level type that declares `static void main(String...)`, or else the public one, or
else the last one. Comments and string literals are read past (a comment may well say
"public class Main"), and so are nested types (a FastReader declared inside Main). The JVM
runs with a serial GC, the client compiler only and one CPU's worth of threads: it starts in
about 60 ms and its CPU time (all its threads count) stays close to the program's own.
"""

import re

from .base import Language
from .c import SUM

# Text blocks, strings, characters and comments: blanked before the program is read for names.
# One left open runs to the end of its line (a string) or of the text (a block, a comment): a
# pattern that failed there would be tried again from each quote after it, quadratic in the
# program's length (a line of \'\\ pairs: 64 KiB took 25 s). javac reports what is left open.
_NOISE = re.compile(
    r'"""[\s\S]*?(?:"""|\Z)|"(?:\\[\s\S]|[^"\\\n])*"?|\'(?:\\[\s\S]|[^\'\\\n])*\'?|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)'
)
_TOKENS = re.compile(r"[{}]|\b(?:class|interface|enum|record)\s+([\w$]+)")
_PUBLIC = re.compile(r"\bpublic\s+(?:(?:final|abstract|strictfp|sealed|non-sealed|static)\s+)*$")
_MAIN = re.compile(r"\bstatic\s+(?:final\s+)?(?:public\s+)?void\s+main\s*\(\s*(?:final\s+)?String\b")


MAX_NAME = 250  # a file name is at most 255 bytes, ".java" included


def names(program: str) -> tuple[str, str]:
    """(the source file's name, the main class) of a Java program."""
    code = _NOISE.sub(lambda m: " " * len(m.group(0)), program)
    types = _top_level_types(code)
    public = next((name for name, public, _, _ in types if public), None)
    main = _MAIN.search(code)
    holder = None
    if main is not None:
        holder = next((name for name, _, start, end in types if start <= main.start() < end), None)
    main_class = holder or public or (types[-1][0] if types else "Main")
    if public is not None and len(public.encode("utf-8")) > MAX_NAME:  # no such file name: javac says why
        public = None
    return (public or "Main") + ".java", main_class


def _top_level_types(code: str) -> list[tuple[str, bool, int, int]]:
    """(name, public, start, end) of each top-level class, interface, enum or record."""
    types: list[tuple[str, bool, int, int]] = []
    depth, head = 0, None  # head: a top-level type whose body has not ended yet
    for m in _TOKENS.finditer(code):
        token = m.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
            if depth == 0 and head is not None:
                types.append((head[0], head[1], head[2], m.end()))
                head = None
        elif depth == 0 and head is None:
            # Its modifiers are the words just before it (a bounded look: programs may be large).
            head = (m.group(1), _PUBLIC.search(code, max(0, m.start() - 200), m.start()) is not None, m.start())
    if head is not None:  # unbalanced braces: javac will say so; its end is the text's
        types.append((head[0], head[1], head[2], len(code)))
    return types


_JVM = (
    "-XX:+UseSerialGC",
    "-XX:NewRatio=8",  # the old generation most of the heap: one 300 MB array fits in 512 MB
    "-XX:TieredStopAtLevel=1",
    "-XX:ActiveProcessorCount=1",
    "-Xshare:auto",
    "-XX:ReservedCodeCacheSize=48m",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:MaxMetaspaceSize=128m",
    "-XX:-UsePerfData",
    # The JVM's own warnings (a thread it could not start, a full code cache) go to stderr,
    # never into the program's output.
    "-Xlog:disable",
    "-Xlog:all=warning:stderr",
    "-XX:+DisplayVMOutputToStderr",
)

LANGUAGE = Language(
    name="java",
    title="Java 17 (OpenJDK)",
    source="Main.java",
    source_name=names,
    compile=("{javac}", *(f"-J{f}" for f in _JVM), "-J-Xmx512m", "-encoding", "UTF-8", "-nowarn", "-d", ".")
    + ("{source}",),
    keep=("*.class",),
    run=("{java}", *_JVM, "-Xmx{heap_mb}m", "-Xss64m", "-cp", ".", "{main}"),
    tools=("java", "javac"),
    version=("{java}", "-version"),
    packages=("openjdk-17-jdk-headless",),
    threads=48,
    address_space="none",
    heap_share=0.85,
    oom=("java.lang.OutOfMemoryError",),
    etc=("java-17-openjdk",),
    compile_limits={"cpu_s": 20.0, "wall_s": 40.0, "memory_mb": 1536, "output_kb": 1024, "processes": 64},
    env=(("MALLOC_ARENA_MAX", "2"),),
    self_test=(
        "import java.util.*;\npublic class Main {\n  public static void main(String[] args) {\n"
        "    Scanner in = new Scanner(System.in);\n    System.out.println(in.nextLong() + in.nextLong());\n  }\n}\n",
        SUM,
        ("passed", "failed"),
    ),
)
