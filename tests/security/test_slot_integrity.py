"""Programs that try to turn their own failure into infra_error, or to damage the slot for later
jobs (from the review of the executor): each must fail as the program's fault, and the slot must
stay correct for the next program."""

import pytest

from executor import ExecutorConfig, Pool, Verdict

from .security_support import make_job, show

pytestmark = pytest.mark.security

F, RE = Verdict.FAILED, Verdict.RUNTIME_ERROR
ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def fresh_pool(host_secret):
    p = Pool(ExecutorConfig(slots=1))
    p.start()
    yield p
    p.close()


def still_correct(pool):
    ok = pool.run(make_job(ADD, ["assert add(1, 2) == 3"]))
    assert ok.verdict is Verdict.PASSED, show(ok)
    big = pool.run(
        make_job("def big():\n    return bytearray(400 * 2**20)\n", ["assert len(big()) > 0"], memory_mb=128)
    )
    assert big.tests[0].verdict is Verdict.MEMORY_EXCEEDED, show(big)  # limits still hold


def not_infra(result, *verdicts):
    assert result.verdict is not Verdict.INFRA_ERROR and result.passed == 0, show(result)
    if verdicts:
        assert [t.verdict for t in result.tests] == list(verdicts), show(result)


def test_deeply_nested_json_on_the_result_pipe(fresh_pool, host):
    program = (
        "import os\ndef solve(x):\n    body = b'[' * 200000\n"
        "    os.write(4, len(body).to_bytes(4, 'big') + body)\n    return 1\n"
    )
    not_infra(fresh_pool.run(make_job(program, ["assert solve(1) == 2"])), F)
    assert fresh_pool.stats["slot_restarts"] == 0
    still_correct(fresh_pool)
    host.check()


def test_huge_results_are_an_output_limit_not_a_farm_fault(fresh_pool, host):
    program = "def solve(x):\n    return 'a' * 5_000_000\n"
    result = fresh_pool.run(
        make_job(program, [f"assert solve({i}) == 'x'" for i in range(20)], memory_mb=512, wall_s=10)
    )
    not_infra(result)
    assert Verdict.OUTPUT_EXCEEDED in [t.verdict for t in result.tests], show(result)
    still_correct(fresh_pool)
    host.check()


@pytest.mark.parametrize("mode", ["tests", "stdio"])
def test_a_scratch_too_deep_or_too_full_to_wipe(fresh_pool, host, mode):
    program = "import os\nfor i in range(1100):\n    os.mkdir('a')\n    os.chdir('a')\ndef solve(x):\n    return 1\n"
    tests = ["assert solve(1) == 2"] if mode == "tests" else [{"stdin": "", "expected_stdout": "2"}]
    not_infra(fresh_pool.run(make_job(program, tests)))
    flood = "import os\nfor i in range(60000):\n    open(str(i), 'w').close()\ndef solve(x):\n    return 1\n"
    not_infra(fresh_pool.run(make_job(flood, ["assert solve(1) == 2"], cpu_s=5, wall_s=10)))
    still_correct(fresh_pool)
    host.check()


def test_clone_parent_is_refused(fresh_pool, host):
    program = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "def spawn():\n    pid = libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0)\n"
        "    if pid == 0:\n        os._exit(0)\n    return pid, ctypes.get_errno()\n"
    )
    result = fresh_pool.run(make_job(program, ["assert spawn() == (-1, 1)"], processes=4))
    assert result.verdict is Verdict.PASSED, show(result)  # EPERM from the filter
    still_correct(fresh_pool)
    host.check()


def test_compile_time_blowups_are_charged_to_the_program(fresh_pool, host):
    # Constant folding of a long string-concatenation tree: seconds and gigabytes in the compiler.
    leaves = " + ".join(["'A' * 4096"] * 3000)
    program = f"X = ({leaves})\ndef solve(x):\n    return 1\n"
    result = fresh_pool.run(make_job(program, ["assert solve(1) == 2"], memory_mb=128))
    not_infra(result)
    still_correct(fresh_pool)  # the zygote did not inherit the compiler's heap
    host.check()


def test_small_compile_time_blowups_are_charged_to_the_program_too(fresh_pool, host):
    """Small programs are compiled in the zygote, but not this one: 8 KiB of folding that would
    cost the zygote 0.6 s and 800 MB, uncharged."""
    leaves = " + ".join(["'A' * 4096"] * 600)
    program = f"X = ({leaves})\ndef solve(x):\n    return 1\n"
    assert len(program) < 16 << 10
    result = fresh_pool.run(make_job(program, ["assert solve(1) == 2"], memory_mb=128))
    not_infra(result)
    assert result.tests[0].verdict is not Verdict.PASSED
    still_correct(fresh_pool)
    host.check()


def test_folding_hidden_behind_line_continuations_is_charged_to_the_program(fresh_pool, host):
    """The same folding, with a backslash continuation and a comment between each literal
    and its `*` (found in a review: the zygote compiled it, uncharged)."""
    leaves = " +\n".join(["'AAAA' \\\n# more\n* 1024"] * 600)
    program = f"x = ({leaves})\ndef solve(a):\n    return 42\n"
    assert len(program) < 16 << 10
    result = fresh_pool.run(make_job(program, ["assert solve(1) == 42"], memory_mb=64, cpu_s=0.5))
    not_infra(result)
    assert result.tests[0].verdict is not Verdict.PASSED, show(result)
    still_correct(fresh_pool)
    host.check()


def test_hash_colliding_sets_fail_without_rebuilding_them(pool, host):
    program = (
        "M = (1 << 61) - 1\nclass H(int):\n    def __hash__(self):\n        return 1\n"
        "def solve(x):\n    return {H(k * M) for k in range(1, 20000)}\n"
    )
    # `{1} | set()`, not the literal `{1}`: a value far larger than a literal fails unread.
    result = pool.run(make_job(program, ["assert solve(1) == {1} | set()"], memory_mb=512, cpu_s=5, wall_s=10))
    not_infra(result, F)
    assert "hashes collide" in result.tests[0].message, show(result)
    host.check()


def test_type_checks_on_program_values(pool, host):
    result = pool.run(
        make_job(
            "def f(x):\n    return x\n",
            ["assert type(f(1)) == int", "assert type(f(1)) is int", "assert type(f('a')) is int"],
        )
    )
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.PASSED, F], show(result)
    host.check()


def test_cpu_in_other_processes_counts_against_the_test(pool, host):
    program = (
        "import os, time\ndef burn():\n    for _ in range(2):\n        if os.fork() == 0:\n"
        "            t = time.process_time()\n            while time.process_time() - t < 3:\n"
        "                pass\n            os._exit(0)\n    os.wait(); os.wait()\n    return 1\n"
    )
    result = pool.run(make_job(program, ["assert burn() == 1"], processes=4, cpu_s=1, wall_s=10))
    assert result.tests[0].verdict is Verdict.TIMEOUT, show(result)
    host.check()
