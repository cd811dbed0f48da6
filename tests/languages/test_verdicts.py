"""Every language, one problem: a right and a wrong solution, a program that does not compile,
a crash, a CPU loop, a sleeper, a memory hog and an output flood, each with its own verdict
(and none of them infra_error), judged on the trusted side.

The jobs of the whole matrix go to the pool at once (module fixture `results`) so that its two
slots run them side by side; each test then waits for its own.
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from executor import JobResult, Pool

from .programs import COMPILED, PROGRAMS, SUM_TESTS, WRONG_VERDICTS
from .support import job, require, show, verdicts

LANGUAGES = tuple(PROGRAMS)

# Per category: the tests and limits of its job. The limits are small so that the suite is cheap.
JOBS = {
    "right": (SUM_TESTS, {}),
    "wrong": (SUM_TESTS, {}),
    "compile_error": (SUM_TESTS, {}),
    "runtime_error": (SUM_TESTS[:1], {}),
    "cpu_loop": (SUM_TESTS[:1], {"cpu_s": 0.5, "wall_s": 5}),
    "sleep": (SUM_TESTS[:1], {"cpu_s": 1, "wall_s": 0.5}),
    "memory": (SUM_TESTS[:1], {"memory_mb": 128, "cpu_s": 5, "wall_s": 10}),
    # Below a pipe's 64 KiB: node queues what a full pipe does not take (and spins in its loop),
    # so the limit must be passed by what the pipe alone holds.
    "flood": (SUM_TESTS[:1], {"output_kb": 16}),
}

# What each language's runtime error says (the start of its stderr, or the signal).
CRASH_SAYS = {
    "python": "ZeroDivisionError",
    "c": "SIGSEGV",
    "cpp": "std::out_of_range",
    "cpp20": "std::out_of_range",
    "java": "java.lang.ArrayIndexOutOfBoundsException",
    "javascript": "TypeError: Cannot read properties of null",
    "go": "panic: assignment to entry in nil map",
    "rust": "index out of bounds",
    "bash": "No such file or directory",
}
# What each compiler (or parser) says of the program that does not compile.
COMPILER_SAYS = {
    "python": "SyntaxError",
    "c": "error: expected expression",
    "cpp": "error: no matching function",
    "cpp20": "error: no matching function",
    "java": "error: incompatible types",
    "javascript": "SyntaxError: Unexpected token",
    "go": "invalid operation",
    "rust": "error[E0308]: mismatched types",
    "bash": "syntax error",
}


@pytest.fixture(scope="module")
def results(pool: Pool) -> dict[tuple[str, str], Future[JobResult]]:
    out = {}
    for lang in LANGUAGES:
        if lang != "python" and lang not in pool.toolchains:
            continue
        for category, (tests, limits) in JOBS.items():
            out[lang, category] = pool.submit(job(lang, PROGRAMS[lang][category], tests, **limits))
    return out


def result_of(pool: Pool, results: dict[tuple[str, str], Future[JobResult]], lang: str, category: str) -> JobResult:
    require(pool, lang)
    return results[lang, category].result(timeout=120)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_right_solution_passes(pool, results, lang):
    r = result_of(pool, results, lang, "right")
    assert r.verdict.value == "passed" and r.pass_rate == 1.0, show(r)
    assert (r.build is not None) == (lang in COMPILED), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_wrong_solution_fails_the_tests_it_gets_wrong(pool, results, lang):
    r = result_of(pool, results, lang, "wrong")
    assert tuple(verdicts(r)) == WRONG_VERDICTS, show(r)
    assert r.verdict.value == "failed" and r.passed == 1 and r.total == 3, show(r)
    assert "got '2\\n'" in (r.tests[0].message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_program_that_does_not_compile(pool, results, lang):
    """A compiler's error is compile_error on every test (and the job's verdict), with the
    compiler's message; Python's is syntax_error on every run; node's and bash's is what it is
    to them, a run that exits with an error: runtime_error, with the parser's message."""
    r = result_of(pool, results, lang, "compile_error")
    expected = {"python": "syntax_error", "javascript": "runtime_error", "bash": "runtime_error"}.get(
        lang, "compile_error"
    )
    assert verdicts(r) == [expected] * 3, show(r)
    assert r.verdict.value == ("compile_error" if lang in COMPILED else "failed"), show(r)
    assert COMPILER_SAYS[lang] in (r.tests[0].message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_crash_is_a_runtime_error(pool, results, lang):
    r = result_of(pool, results, lang, "runtime_error")
    assert verdicts(r) == ["runtime_error"], show(r)
    assert CRASH_SAYS[lang] in (r.tests[0].message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_cpu_loop_is_a_timeout(pool, results, lang):
    r = result_of(pool, results, lang, "cpu_loop")
    assert verdicts(r) == ["timeout"], show(r)
    assert "CPU time limit" in (r.tests[0].message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_sleeper_is_a_timeout_by_the_wall_clock(pool, results, lang):
    r = result_of(pool, results, lang, "sleep")
    assert verdicts(r) == ["timeout"], show(r)
    assert "wall-clock" in (r.tests[0].message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_touching_more_than_the_memory_limit_is_memory_exceeded(pool, results, lang):
    """However the runtime learns it: the memory cgroup's OOM kill (C, C++, Rust), the
    runtime's own report (Java's OutOfMemoryError, Go's and node's fatal errors, Python's
    MemoryError, bash's xrealloc)."""
    r = result_of(pool, results, lang, "memory")
    assert verdicts(r) == ["memory_exceeded"], show(r)
    assert r.peak_kb <= (128 + 64) * 1024, show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_flooding_stdout_is_output_exceeded(pool, results, lang):
    r = result_of(pool, results, lang, "flood")
    assert verdicts(r) == ["output_exceeded"], show(r)


# Honest programs that use what the threaded runtimes allow: their own threads, beside the
# runtime's, and a small memory limit.
THREADED = {
    "java": (
        "import java.util.*;\nimport java.util.concurrent.atomic.*;\npublic class Main {\n"
        "  public static void main(String[] a) throws Exception {\n    Scanner in = new Scanner(System.in);\n"
        "    long x = in.nextLong(), y = in.nextLong();\n    AtomicLong sum = new AtomicLong();\n"
        "    List<Thread> ts = new ArrayList<>();\n    for (long v : new long[] {x, y}) {\n"
        "      Thread t = new Thread(() -> sum.addAndGet(v));\n      t.start();\n      ts.add(t);\n    }\n"
        "    for (Thread t : ts) t.join();\n    System.out.println(sum.get());\n  }\n}\n"
    ),
    "go": (
        'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n\t"sync"\n)\n\nfunc main() {\n\truntime.GOMAXPROCS(4)\n'
        "\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\tvar mu sync.Mutex\n\tvar wg sync.WaitGroup\n\tsum := int64(0)\n"
        "\tfor _, v := range []int64{a, b} {\n\t\twg.Add(1)\n\t\tgo func(v int64) {\n\t\t\tdefer wg.Done()\n"
        "\t\t\tmu.Lock()\n\t\t\tsum += v\n\t\t\tmu.Unlock()\n\t\t}(v)\n\t}\n\twg.Wait()\n\tfmt.Println(sum)\n}\n"
    ),
    "javascript": (
        "const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');\n"
        "if (isMainThread) {\n  const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "  const w = new Worker(__filename, { workerData: [a, b] });\n  w.on('message', (s) => console.log(s));\n"
        "} else {\n  parentPort.postMessage(workerData[0] + workerData[1]);\n}\n"
    ),
}


@pytest.mark.parametrize("lang", sorted(THREADED))
def test_threads_a_program_starts_itself_are_allowed(pool, lang):
    require(pool, lang)
    r = pool.run(job(lang, THREADED[lang], SUM_TESTS))
    assert r.verdict.value == "passed", show(r)


@pytest.mark.parametrize("lang", ["java", "go", "javascript", "c"])
def test_a_right_solution_passes_under_a_small_memory_limit(pool, lang):
    """64 MiB: the JVM's heap is 48 of them, node's too; its own code and threads fit beside."""
    require(pool, lang)
    r = pool.run(job(lang, PROGRAMS[lang]["right"], SUM_TESTS, memory_mb=64, cpu_s=1))
    assert r.verdict.value == "passed", show(r)


SPINNERS = {
    "java": (
        "public class Main {\n  static volatile long n;\n  public static void main(String[] a) throws Exception {\n"
        "    for (int i = 0; i < 4; i++) new Thread(() -> { for (;;) n++; }).start();\n"
        "    Thread.sleep(60000);\n  }\n}\n"
    ),
    "go": (
        'package main\n\nimport (\n\t"runtime"\n\t"time"\n)\n\nvar n [4]int\n\nfunc main() {\n\truntime.GOMAXPROCS(4)\n'
        "\tfor i := 0; i < 4; i++ {\n\t\tgo func(i int) {\n\t\t\tfor {\n\t\t\t\tn[i]++\n\t\t\t}\n\t\t}(i)\n\t}\n"
        "\ttime.Sleep(time.Minute)\n}\n"
    ),
}


@pytest.mark.parametrize("lang", sorted(SPINNERS))
def test_the_cpu_time_of_every_thread_counts(pool, lang):
    """Threads that spin while the main one sleeps: their CPU time is the program's, and the
    CPU limit (not the wall clock) ends it."""
    require(pool, lang)
    r = pool.run(job(lang, SPINNERS[lang], SUM_TESTS[:1], cpu_s=0.5, wall_s=20))
    assert verdicts(r) == ["timeout"] and "CPU time limit" in (r.tests[0].message or ""), show(r)
    build_ms = r.build.cpu_ms if r.build is not None and not r.build.cached else 0.0
    assert r.cpu_ms - build_ms >= 500, show(r)
