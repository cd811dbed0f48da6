"""Java 17 (OpenJDK): javac, then the JVM on the class that holds `main`.

The file is named after the program's public class (javac requires it); the main class is the
public class, or else the last class declared before the first `static void main`. The JVM
runs with a serial GC, the client compiler only and one CPU's worth of threads: it starts in
about 60 ms and its CPU time (all its threads count) stays close to the program's own.
"""

import re

from .base import Language
from .c import SUM

_PUBLIC = re.compile(r"\bpublic\s+(?:(?:final|abstract|strictfp)\s+)*class\s+([A-Za-z_$][\w$]*)")
_CLASS = re.compile(r"\bclass\s+([A-Za-z_$][\w$]*)")
_MAIN = re.compile(r"\bstatic\s+(?:final\s+)?(?:public\s+)?void\s+main\s*\(")


def names(program: str) -> tuple[str, str]:
    """(the source file's name, the main class) of a Java program."""
    public = _PUBLIC.search(program)
    if public is not None:
        return public.group(1) + ".java", public.group(1)
    main = _MAIN.search(program)
    before = _CLASS.findall(program[: main.start()] if main else program)
    return "Main.java", before[-1] if before else "Main"


_JVM = (
    "-XX:+UseSerialGC",
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
    heap_share=0.75,
    oom=("java.lang.OutOfMemoryError",),
    etc=("java-17-openjdk",),
    compile_limits={"cpu_s": 20.0, "wall_s": 40.0, "memory_mb": 1536, "output_kb": 64, "processes": 64},
    env=(("MALLOC_ARENA_MAX", "2"),),
    self_test=(
        "import java.util.*;\npublic class Main {\n  public static void main(String[] args) {\n"
        "    Scanner in = new Scanner(System.in);\n    System.out.println(in.nextLong() + in.nextLong());\n  }\n}\n",
        SUM,
        ("passed", "failed"),
    ),
)
