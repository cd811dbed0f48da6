"""Output a program writes as soon as it starts arrives with its child's ready frame when the
zygote is slow to look (both slots busy, each pinned with its children to one CPU). It is the
program's output, counted in the phases after the set-up, never a set-up fault: one review run
of 400 such jobs on two slots restarted a slot 55 to 79 times and ended 2 to 14 jobs in
infra_error before process.Child.wait took the ready frame first.
"""

from __future__ import annotations

import pytest

from executor import Verdict

from .security_support import make_job, show

pytestmark = pytest.mark.security

FLOODS = [
    "import os\nos.write(1, b'x' * (1 << 20))\ndef f():\n    return 1\n",  # past 64 x output_kb at once
    "import os\nwhile True:\n    os.write(1, b'.')\n",
]


def test_output_at_once_is_the_programs_not_an_infra_fault(pool, host):
    before = dict(pool.stats)
    futures = [pool.submit(make_job(FLOODS[i % 2], ["assert f() == 1"], output_kb=4)) for i in range(120)]
    for fut in futures:
        result = fut.result()
        assert [t.verdict for t in result.tests] == [Verdict.OUTPUT_EXCEEDED], show(result)
        assert result.attempts == 1, show(result)
    assert pool.stats["slot_restarts"] == before["slot_restarts"]
    assert pool.stats["infra_errors"] == before["infra_errors"]
    host.check()
