"""What a script's interpreter does at its exit, a stdin/stdout run does too: atexit handlers
run and every stream is flushed (a common fast-output template prints nothing before then)."""

from executor import Verdict

FAST_IO = """
import os, sys, atexit
from io import BytesIO, StringIO
input = BytesIO(os.read(0, os.fstat(0).st_size)).readline
_OUTPUT_BUFFER = StringIO()
sys.stdout = _OUTPUT_BUFFER

@atexit.register
def write():
    sys.__stdout__.write(_OUTPUT_BUFFER.getvalue())

a, b = map(int, input().split())
print(a + b)
"""


def test_atexit_handlers_write_the_output(run):
    tests = [{"stdin": "1 2\n", "expected_stdout": "3\n"}, {"stdin": "5 5\n", "expected_stdout": "10\n"}]
    assert run(FAST_IO, tests).verdict is Verdict.PASSED
    assert run(FAST_IO.replace("a + b", "a - b"), tests).verdict is Verdict.FAILED


def test_handlers_run_after_sys_exit_and_their_errors_change_nothing(run):
    after_exit = (
        "import sys, atexit\nout = ['3\\n']\natexit.register(lambda: sys.stdout.write(''.join(out)))\nsys.exit(0)\n"
    )
    raising = "import atexit\ndef boom():\n    raise ValueError\natexit.register(boom)\nprint(3)\n"
    for program in (after_exit, raising):
        result = run(program, [{"stdin": "", "expected_stdout": "3\n"}])
        assert result.verdict is Verdict.PASSED, result
