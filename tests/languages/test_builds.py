"""Builds: a program is compiled once however many jobs carry it (a GRPO group), a failed build
is kept too, a build's limits are its own and not its runs', and what decides a build's outcome
is the program's: its class names (Java), its compile time, its size on disk.

Programs here carry this session's token (support.RUN), so the build cache on disk
(ExecutorConfig.build_dir) has never seen them and the counters move as the test says.
"""

from __future__ import annotations

import dataclasses

import pytest

from executor import Pool

from .programs import CPP, CPP20_RIGHT, JAVA, PROGRAMS, SUM_TESTS
from .support import RUN, job, require, show, stdin_test, verdicts


def unique(program: str, comment: str = "//") -> str:
    return f"{comment} {RUN} {id(program)}\n{program}"


def builds_of(pool: Pool) -> dict[str, int]:
    return pool.builds.stats.to_dict()


def test_a_grpo_group_of_16_identical_cpp_programs_compiles_once(pool):
    require(pool, "cpp")
    program = unique(CPP["right"], "// grpo group")
    before = builds_of(pool)
    futures = [pool.submit(job("cpp", program, [SUM_TESTS[i % 3], SUM_TESTS[(i + 1) % 3]])) for i in range(16)]
    results = [f.result(timeout=120) for f in futures]
    after = builds_of(pool)
    assert [r.verdict.value for r in results] == ["passed"] * 16, [
        show(r) for r in results if r.verdict.value != "passed"
    ]
    assert after["builds"] - before["builds"] == 1, (before, after)
    assert after["hits"] - before["hits"] == 15, (before, after)  # each of the others reused it
    cached = sorted(r.build.cached for r in results if r.build is not None)
    assert cached == [False] + [True] * 15, [r.build for r in results]
    # The job that built it was charged the build's CPU; the others were not.
    builder = next(r for r in results if r.build is not None and not r.build.cached)
    assert builder.cpu_ms >= builder.build.cpu_ms > 0


def test_a_failed_build_is_kept_too(pool):
    require(pool, "cpp")
    program = unique(CPP["compile_error"], "// grpo group that does not compile")
    before = builds_of(pool)
    futures = [pool.submit(job("cpp", program, SUM_TESTS)) for _ in range(16)]
    results = [f.result(timeout=120) for f in futures]
    after = builds_of(pool)
    assert all(r.verdict.value == "compile_error" for r in results), [show(r) for r in results]
    assert all("no matching function" in (r.tests[0].message or "") for r in results), show(results[0])
    assert after["builds"] - before["builds"] == 1, (before, after)


def test_a_build_ended_by_the_wall_clock_is_not_kept(pool, monkeypatch):
    """A wall-clock stop may be a loaded machine's doing: the next job of the program builds
    it again. (A CPU-limit stop is the program's: kept, see below.)"""
    require(pool, "cpp")
    tc = pool.toolchains["cpp"]
    hurried = dataclasses.replace(tc.language, compile_limits=dict(tc.language.compile_limits, wall_s=0.05))
    monkeypatch.setitem(pool.toolchains, "cpp", dataclasses.replace(tc, language=hurried))
    program = unique(CPP["right"], "// built in a hurry")
    before = builds_of(pool)
    for _ in range(2):
        r = pool.run(job("cpp", program, SUM_TESTS[:1]))
        assert verdicts(r) == ["compile_error"] and "wall-clock" in (r.tests[0].message or ""), show(r)
        assert r.build is not None and r.build.stopped and not r.repeatable  # nor is its result cached
    # The stop stands a minute for its program (the jobs that waited for it take it)...
    assert builds_of(pool)["builds"] - before["builds"] == 1
    # ...and is never kept: past that minute, the next job builds it again.
    key = pool.toolchains["cpp"].build_key(program)
    pool.builds._recent[key] = (pool.builds._recent[key][0], 0.0)
    pool.run(job("cpp", program, SUM_TESTS[:1]))
    assert builds_of(pool)["builds"] - before["builds"] == 2


# A constant expression that takes g++ minutes: 4e10 steps, each under the per-loop limits.
LONG_COMPILE = (
    "constexpr long f() {\n  long s = 0;\n  for (long i = 0; i < 200000; i++)\n"
    "    for (long j = 0; j < 200000; j++) s += i ^ j;\n  return s;\n}\n"
    "constexpr long x = f();\nint main() { return x == 3; }\n"
)


def test_a_compile_past_its_cpu_limit_is_a_compile_error(pool, monkeypatch):
    """The compiler's own limits (Language.compile_limits) end it: compile_error, saying which
    limit, never infra_error. The limit is lowered to 1 s here to keep the test short."""
    require(pool, "cpp")
    tc = pool.toolchains["cpp"]
    quick = dataclasses.replace(tc.language, compile_limits=dict(tc.language.compile_limits, cpu_s=1.0))
    monkeypatch.setitem(pool.toolchains, "cpp", dataclasses.replace(tc, language=quick))
    before = builds_of(pool)
    r = pool.run(job("cpp", unique(LONG_COMPILE), SUM_TESTS))
    assert r.verdict.value == "compile_error" and verdicts(r) == ["compile_error"] * 3, show(r)
    assert "the build was stopped: CPU time limit of 1s exceeded" in (r.tests[0].message or ""), show(r)
    assert 1000 <= r.build.cpu_ms < 4000, show(r)
    r = pool.run(job("cpp", unique(LONG_COMPILE), SUM_TESTS))  # the same text: kept, not built again
    assert r.verdict.value == "compile_error" and r.build.cached, show(r)
    assert builds_of(pool)["builds"] - before["builds"] == 1


def test_template_recursion_is_a_compile_error_with_the_compilers_message(pool):
    require(pool, "cpp")
    program = (
        "template <int N> struct F { static const long v = F<N - 1>::v + 1; };\n"
        "template <> struct F<0> { static const long v = 0; };\n"
        '#include <cstdio>\nint main() { std::printf("%ld\\n", F<100000>::v); }\n'
    )
    r = pool.run(job("cpp", unique(program), SUM_TESTS[:1]))
    assert verdicts(r) == ["compile_error"], show(r)
    assert "template instantiation depth exceeds" in (r.tests[0].message or ""), show(r)


def test_a_build_has_its_own_memory_limit_and_the_runs_the_jobs(pool):
    """The compiler may use its own memory limit (1 GiB or more); the runs of the job that
    built the program get the job's, as every later job does (one request for both would have
    given them the compiler's)."""
    require(pool, "c")
    hog = unique(  # 200 MB, every page written (volatile: the compiler may not skip it)
        "#include <stdlib.h>\n#include <stdio.h>\n"
        "int main(void){ volatile char *p = malloc(200 << 20); long s = 0; if (!p) return 1;"
        " for (long i = 0; i < (200 << 20); i += 4096) p[i] = 1;"
        " for (long i = 0; i < (200 << 20); i += 4096) s += p[i];"
        ' printf("%d\\n", s == 51200 ? 3 : 0); return 0; }\n'
    )
    first = pool.run(job("c", hog, [stdin_test("", "3\n")], memory_mb=64))
    second = pool.run(job("c", hog, [stdin_test("", "3\n")], memory_mb=64))
    assert first.build is not None and not first.build.cached, show(first)
    assert verdicts(first) == verdicts(second) == ["memory_exceeded"], show(first) + show(second)
    assert pool.run(job("c", hog, [stdin_test("", "3\n")], memory_mb=512)).verdict.value == "passed"


def test_a_programs_own_files_do_not_count_as_its_disk_use(pool):
    """A binary (2 MB for Go) or class files are the program, not scratch it wrote: a job that
    allows no scratch at all still runs (it was infra_error: the unpacked binary passed the
    file-size limit before the program began)."""
    for lang in ("go", "java", "c", "javascript"):
        require(pool, lang)
        r = pool.run(job(lang, PROGRAMS[lang]["right"], SUM_TESTS, disk_mb=0))
        assert r.verdict.value == "passed", show(r)


def test_deep_recursion_has_the_stack_it_needs(pool):
    """A million frames (about 100 MB of stack): competitive programs recurse that deep, and
    the stack is memory like any other (limited by memory_mb, not by the usual 8 MiB)."""
    programs = {
        "cpp": (
            "#include <cstdio>\nint d(int n){ volatile char b[64]; b[0] = n; return n ? d(n - 1) + (b[0] & 1) : 0; }\n"
            'int main(){ std::printf("%d\\n", d(1000000)); }\n'
        ),
        "rust": (
            "fn d(n: u32) -> u32 {\n    let b = [n as u8; 64];\n    if n == 0 { return 0; }\n"
            "    d(n - 1) + (unsafe { std::ptr::read_volatile(&b) }[0] & 1) as u32\n}\n"
            'fn main() { println!("{}", d(1000000)); }\n'
        ),
        "javascript": "function d(n) { return n ? d(n - 1) + (n & 1) : 0; }\nconsole.log(d(200000));\n",
    }
    expected = {"cpp": "500000\n", "rust": "500000\n", "javascript": "100000\n"}
    for lang, program in programs.items():
        require(pool, lang)
        r = pool.run(job(lang, program, [stdin_test("", expected[lang])]))
        assert r.verdict.value == "passed", show(r)


def test_cpp20_is_cpp20_and_cpp_is_cpp17(pool):
    require(pool, "cpp20")
    assert pool.run(job("cpp20", CPP20_RIGHT, SUM_TESTS)).verdict.value == "passed"
    r = pool.run(job("cpp", CPP20_RIGHT, SUM_TESTS[:1]))
    assert r.verdict.value == "compile_error", show(r)


JAVA_READ = "    java.util.Scanner in = new java.util.Scanner(System.in);\n    System.out.println(in.nextLong() + in.nextLong());\n"
JAVA_SHAPES = {
    "public class Solution": JAVA["right"].replace("public class Main", "public class Solution"),
    "no public class": (
        "class Adder {\n  static long add(long a, long b) { return a + b; }\n}\n"
        "class Program {\n  public static void main(String[] args) {\n"
        "    java.util.Scanner in = new java.util.Scanner(System.in);\n"
        "    System.out.println(Adder.add(in.nextLong(), in.nextLong()));\n  }\n}\n"
    ),
    "a comment naming another class": (
        "/* public class Main would do as well */\npublic class Solution {\n"
        "  public static void main(String[] a) {\n" + JAVA_READ + "  }\n}\n"
    ),
    "a nested helper before main": (
        "class Main {\n  static class FastReader { }\n  public static void main(String[] a) {\n"
        + JAVA_READ
        + "  }\n}\n"
    ),
    "an overload of main in another class": (
        "class Helper {\n  static void main(int x) { }\n}\n"
        "class Prog {\n  public static void main(String[] a) {\n" + JAVA_READ + "  }\n}\n"
    ),
    "a public interface": "public interface Solution {\n  static void main(String[] a) {\n" + JAVA_READ + "  }\n}\n",
}


@pytest.mark.parametrize("shape", sorted(JAVA_SHAPES))
def test_java_programs_of_every_usual_shape_run(pool, shape):
    """The file is named after the public top-level type and the JVM runs the one that
    declares main(String[]): whatever comments, nested types and overloads say otherwise."""
    require(pool, "java")
    r = pool.run(job("java", JAVA_SHAPES[shape], SUM_TESTS))
    assert r.verdict.value == "passed", show(r)
