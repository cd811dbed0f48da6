"""Special judges in the real sandbox (executor/checking.py, executor/judging/special.py): a
checker given with the job decides each stdin/stdout test, testlib's way."""

import uuid

import pytest

from executor import Job, Verdict

# The problem: given n, print two non-negative integers whose sum is n. Many answers are right;
# the jury's answer is one of them ("0 n").
TESTS = [{"stdin": f"{n}\n", "expected_stdout": f"0 {n}\n"} for n in (3, 10, 7)]

PY_CHECKER = r"""
import sys
inp, out, ans = (open(p).read() for p in sys.argv[1:4])
n = int(inp.split()[0])
assert len(ans.split()) == 2  # the jury's answer is there, in argv[3]
toks = out.split()
if len(toks) != 2 or not all(t.isdigit() for t in toks):
    print("expected two non-negative integers, found", repr(out[:40]))
    sys.exit(2)
a, b = map(int, toks)
if a + b != n:
    sys.exit(f"wrong answer {a} + {b} != {n}")
print("ok")
"""

CPP_CHECKER = r"""
#include <cstdio>
int main(int argc, char** argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: checker input output answer\n"); return 3; }
    std::FILE* in = std::fopen(argv[1], "r");
    std::FILE* out = std::fopen(argv[2], "r");
    std::FILE* ans = std::fopen(argv[3], "r");
    long long n, x, y, a, b;
    if (!in || !out || !ans || std::fscanf(in, "%lld", &n) != 1 || std::fscanf(ans, "%lld %lld", &x, &y) != 2) {
        std::fprintf(stderr, "fail: cannot read the test\n");
        return 3;
    }
    if (std::fscanf(out, "%lld %lld", &a, &b) != 2) {
        std::fprintf(stderr, "wrong output format: expected two integers\n");
        return 2;
    }
    if (a < 0 || b < 0 || a + b != n) {
        std::fprintf(stderr, "wrong answer %lld + %lld != %lld\n", a, b, n);
        return 1;
    }
    std::fprintf(stderr, "ok\n");
    return 0;
}
"""

RIGHT = [  # three different right answers
    "n = int(input())\nprint(0, n)",
    "n = int(input())\nprint(n, 0)",
    "n = int(input())\nprint(1, n - 1)",
]
CPP_RIGHT = (
    "#include <iostream>\nint main(){long long n; std::cin >> n; std::cout << n / 2 << ' ' << n - n / 2 << '\\n';}\n"
)


def fresh(source: str) -> str:
    """`source` made unique, so that no build kept by an earlier run serves it."""
    return f"{source}\n// {uuid.uuid4().hex}\n" if "#include" in source else f"{source}\n# {uuid.uuid4().hex}\n"


def py(source: str = PY_CHECKER) -> dict:
    return {"language": "python", "program": source}


def cpp(source: str = CPP_CHECKER) -> dict:
    return {"language": "cpp", "program": source}


def verdicts(result):
    return [t.verdict for t in result.tests]


@pytest.mark.parametrize("checker", [py(), cpp()], ids=["python", "cpp"])
def test_a_checker_accepts_every_right_answer_and_rejects_a_wrong_one_with_its_message(run, checker):
    for program in RIGHT:
        result = run(program, TESTS, checker=checker)
        assert result.verdict is Verdict.PASSED, result
    wrong = run("n = int(input())\nprint(n, 1)", TESTS, checker=checker)
    assert wrong.verdict is Verdict.FAILED and verdicts(wrong) == [Verdict.FAILED] * 3
    assert wrong.tests[0].message == "checker: wrong answer 3 + 1 != 3"
    malformed = run("print('three')", TESTS, checker=checker)
    assert verdicts(malformed) == [Verdict.FAILED] * 3 and "two" in malformed.tests[0].message


def test_a_cpp_program_under_a_cpp_checker_and_under_a_python_one(run):
    for checker in (cpp(), py()):
        result = run(CPP_RIGHT, TESTS, language="cpp", checker=checker)
        assert result.verdict is Verdict.PASSED, result
    wrong = run("int main(){return 0;}", TESTS, language="cpp", checker=cpp())
    assert verdicts(wrong) == [Verdict.FAILED] * 3 and "two integers" in wrong.tests[0].message


def test_the_checker_gets_input_output_and_answer_in_testlibs_order(run):
    order = r"""
import os, sys
got = [open(p).read() for p in sys.argv[1:4]]
want = ["5 7\n", "12\n", "answer for 5 7\n"]
names = sys.argv[1:4] == ["input.txt", "output.txt", "answer.txt"]
here = sorted(os.listdir("."))
ok = got == want and names and sys.stdin.read() == "" and here == ["answer.txt", "checker.py", "input.txt", "output.txt"]
print(got, sys.argv, here)
sys.exit(0 if ok else 3)
"""
    test = [{"stdin": "5 7\n", "expected_stdout": "answer for 5 7\n"}]
    result = run("print(sum(map(int, input().split())))", test, checker=py(order))
    assert result.verdict is Verdict.PASSED, result


@pytest.mark.parametrize(
    "source, words",
    [
        ("import sys\nprint('the answer file is broken')\nsys.exit(3)", "the answer file is broken"),
        ("raise ValueError('checker bug')", "ValueError: checker bug"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "SIGSEGV"),
        ("import sys\nsys.exit(7)", "partial points"),
        ("import sys\nsys.stderr.write('x' * (1 << 20))", "ended"),
    ],
    ids=["fail", "exception", "signal", "points", "flood"],
)
def test_a_checker_that_fails_or_crashes_leaves_the_job_unjudged_never_passed(run, source, words):
    result = run(RIGHT[0], TESTS, checker=py(source))
    assert result.verdict is Verdict.INFRA_ERROR and Verdict.PASSED not in verdicts(result)
    assert words in result.tests[0].message, result.tests[0].message
    assert all("earlier test" in t.message for t in result.tests[1:])  # checking stopped at the first


def test_a_looping_checker_ends_on_its_own_time_limit_as_not_judgeable(run):
    result = run(RIGHT[0], TESTS[:1], checker=py("while True:\n    pass\n"))
    assert verdicts(result) == [Verdict.INFRA_ERROR] and "(timeout): CPU time limit" in result.tests[0].message


def test_a_crashing_cpp_checker_and_one_that_does_not_compile_leave_the_job_unjudged(run):
    crash = run(RIGHT[0], TESTS, checker=cpp(fresh("#include <cstdlib>\nint main(){ std::abort(); }")))
    assert crash.verdict is Verdict.INFRA_ERROR and "SIGABRT" in crash.tests[0].message
    broken = run(RIGHT[0], TESTS, checker=cpp(fresh("#include <cstdio>\nint main( {")))
    assert broken.verdict is Verdict.INFRA_ERROR and "does not compile" in broken.tests[0].message
    assert "checker.cpp" in broken.tests[0].message


def test_a_program_that_floods_its_output_is_output_exceeded_before_any_checker_runs(run):
    accept_all = py("import sys\nsys.exit(0)")
    result = run("print('0 ' * 10**6)", TESTS, checker=accept_all, limits={"output_kb": 16})
    assert verdicts(result) == [Verdict.OUTPUT_EXCEEDED] * 3


def test_the_programs_own_failures_keep_their_verdicts_and_only_good_runs_are_checked(run):
    program = "n = int(input())\nif n == 10:\n    raise SystemExit(4)\nif n == 7:\n    while True: pass\nprint(0, n)"
    result = run(program, TESTS, checker=py(), limits={"cpu_s": 0.3})
    assert verdicts(result) == [Verdict.PASSED, Verdict.RUNTIME_ERROR, Verdict.TIMEOUT]


def test_first_failure_stops_at_the_checkers_first_rejection(run):
    tests = [TESTS[0], {"stdin": "1\n", "expected_stdout": "0 1\n"}, TESTS[1]]
    result = run("n = int(input())\nprint(n - 2, 2)", tests, checker=py(), mode="first_failure")
    assert verdicts(result) == [Verdict.PASSED, Verdict.FAILED, Verdict.SKIPPED]


def test_a_cpp_checker_is_built_once_for_a_group_of_16_jobs(pool):
    checker = cpp(fresh(CPP_CHECKER))
    before = pool.builds.stats.to_dict()
    jobs = [
        Job.from_dict({"id": f"g/{i}", "program": RIGHT[i % 3], "tests": TESTS, "checker": checker}) for i in range(16)
    ]
    results = list(pool.map(jobs))
    after = pool.builds.stats.to_dict()
    assert [r.verdict for r in results] == [Verdict.PASSED] * 16
    assert after["builds"] - before["builds"] == 1
    assert after["hits"] - before["hits"] + after["waits"] - before["waits"] >= 15


def test_a_checkers_build_is_its_own_not_a_programs_of_the_same_text(pool):
    source = fresh(CPP_RIGHT)  # as a checker it would be given the three files, as a program it reads stdin
    before = pool.builds.stats.builds
    as_program = pool.run(Job.from_dict({"id": "p", "language": "cpp", "program": source, "tests": TESTS}))
    as_checker = pool.run(Job.from_dict({"id": "c", "program": RIGHT[0], "tests": TESTS, "checker": cpp(source)}))
    assert pool.builds.stats.builds - before == 2
    assert as_program.verdict is Verdict.FAILED  # "1 2" is not "0 3" by the built-in comparer
    # As a checker it reads nothing from stdin and exits 0: every output passes (the checker's choice).
    assert as_checker.verdict is Verdict.PASSED
