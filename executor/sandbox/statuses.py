"""Phase statuses: the one vocabulary of how a phase ended, shared by the code in the sandbox
(runner, tester, zygote, process) and the trusted side (judge.py maps each to a verdict).
Standard library only.

A child's frame may carry only CHILD statuses (what its own code saw; the test process's also
UNJUDGEABLE, which no program's frame can claim); the zygote adds those
only it can see (limits, exits, protocol faults, a stop); SKIPPED fills the tests after the
program died. Where several causes end one phase, PRECEDENCE names it: the first listed wins
(`first`): a process the OOM killer ended is MEMORY, not CRASH.
"""

OK = "ok"  # ran to its end
FAIL = "fail"  # an assert failed
ERROR = "error"  # an exception (SystemExit included) in the program or the test
MEMORY = "memory"  # MemoryError, the address-space limit, or the memory cgroup's OOM kill
SYNTAX = "syntax"  # the program does not compile (Python)
COMPILE = "compile"  # the program's build failed (languages with a compiler)
TIMEOUT = "timeout"  # the CPU or wall-clock limit
OUTPUT = "output"  # output_kb, or result values past their bounds
DISK = "disk"  # the scratch disk limit
CRASH = "crash"  # killed by a signal, or exited, during a phase
PROTOCOL = "protocol"  # a frame that is not the phase's (a wrong nonce, a malformed frame)
STOPPED = "stopped"  # the host stopped a check whose earlier assert had already failed
SKIPPED = "skipped"  # not run: the program died in an earlier test
PART = "part"  # not an end: the values a slow phase sends ahead of its frame
# The test process only, of a test whose own text it could not compile within the job's
# limits (before the program ran): not judgeable, no reward (DESIGN section 9, "Cost").
UNJUDGEABLE = "unjudgeable"

CHILD = frozenset({OK, FAIL, ERROR, MEMORY, SYNTAX})
TESTER = CHILD | {UNJUDGEABLE}  # what the test process's frames may carry
PRECEDENCE = (
    UNJUDGEABLE,
    MEMORY,
    TIMEOUT,
    OUTPUT,
    DISK,
    COMPILE,
    SYNTAX,
    PROTOCOL,
    CRASH,
    ERROR,
    STOPPED,
    FAIL,
    SKIPPED,
    OK,
)
ALL = frozenset(PRECEDENCE)


def first(*causes):
    """The status that names a phase several `causes` ended (PRECEDENCE)."""
    return min(causes, key=PRECEDENCE.index)
