"""AceFarm's executor: run one untrusted program against its tests, sandboxed.

    from executor import Pool, Job

    with Pool() as pool:
        result = pool.run(Job.from_dict({"id": "q1", "program": "...", "tests": ["assert f(1) == 2"]}))
        print(result.verdict, result.pass_rate)

Layers: Pool (one thread per Slot) -> Slot (one zygote inside firejail) ->
zygote (sandbox/zygote.py: runs each job's phases) -> fork server (sandbox/forker.py:
forks the children) -> child (sandbox/runner.py: the program) and, for snippet tests
the host cannot judge, a test process (sandbox/tester.py). Verdicts are decided here,
on the trusted side (judging/: one module per test kind, judge.py for the job).
"""

from .config import ExecutorConfig
from .errors import ExecutorError, InvalidJob, PoolClosed, SandboxUnavailable, SlotCrashed
from .job import Job, JobRules, Test
from .judging.accepted import AcceptedStdioTest
from .judging.call import CallTest
from .judging.raw import RawRun
from .judging.snippet import AssertTest
from .judging.special import Checker
from .judging.stdio import StdioTest
from .limits import Limits
from .pool import Pool
from .result import JobResult, RunOutput, TestResult
from .verdict import Verdict

__all__ = [
    "AcceptedStdioTest",
    "AssertTest",
    "CallTest",
    "Checker",
    "ExecutorConfig",
    "ExecutorError",
    "InvalidJob",
    "Job",
    "JobResult",
    "JobRules",
    "Limits",
    "Pool",
    "PoolClosed",
    "RawRun",
    "RunOutput",
    "SandboxUnavailable",
    "SlotCrashed",
    "StdioTest",
    "Test",
    "TestResult",
    "Verdict",
]
