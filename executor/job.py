"""Jobs: one program and its tests, validated, in trusted-side form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import checkers
from .asserts import TrustedSnippet, bound_names, free_names, plan_snippet
from .errors import InvalidJob
from .limits import Limits
from .text import check_writable

LANGUAGES = ("python",)
MODES = ("all", "first_failure")


@dataclass(frozen=True)
class AssertTest:
    """A Python test snippet, AceCoder style (usually one `assert`).

    It runs in the program's namespace after the program, and passes when it
    runs to its end. `check` is set when the snippet is an assert the trusted
    side judges itself from the program values it needs (asserts.py): only
    those probes enter the sandbox.
    """

    code: str
    check: TrustedSnippet | None = field(default=None, compare=False)

    @classmethod
    def of(cls, code: str) -> AssertTest:
        return cls(code, plan_snippet(code))

    def sandbox_spec(self) -> dict[str, Any]:
        if self.check is not None:
            spec: dict[str, Any] = {"kind": "value", "exprs": list(self.check.probes)}
            if any(self.check.own):
                spec["own"] = list(self.check.own)
            return spec
        return {"kind": "snippet"}  # its source goes to the test process only (Job.sandbox_snippets)


@dataclass(frozen=True)
class CallTest:
    """Call `func(*args)` from the program; pass when the result == expected."""

    func: str
    args: tuple[Any, ...]
    expected: Any

    def sandbox_spec(self) -> dict[str, Any]:
        return {"kind": "call", "func": self.func, "args": list(self.args)}


@dataclass(frozen=True)
class StdioTest:
    """Run the program with `stdin`; compare its stdout with `checker`."""

    stdin: str
    expected_stdout: str
    checker: str = "tokens"
    tolerance: float = 1e-6

    def sandbox_spec(self) -> dict[str, Any]:
        return {"stdin": self.stdin}


Test = AssertTest | CallTest | StdioTest


@dataclass(frozen=True)
class JobRules:
    """Size limits on what a job may carry."""

    max_program_bytes: int = 256 * 1024
    max_tests: int = 2000
    max_test_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Job:
    """One program, its tests and limits. Build with `Job.from_dict` or directly."""

    id: str
    program: str
    tests: tuple[Test, ...]
    language: str = "python"
    limits: Limits = Limits()
    first_failure: bool = False

    @property
    def stdio(self) -> bool:
        return bool(self.tests) and isinstance(self.tests[0], StdioTest)

    def sandbox_request(self) -> dict[str, Any]:
        """The job as the zygote sees it: no expected outputs, no literals."""
        return {
            "program": self.program,
            "mode": "stdio" if self.stdio else "tests",
            "first_failure": self.first_failure,
            "limits": self.limits.to_dict(),
            "tests": [t.sandbox_spec() for t in self.tests],
        }

    def sandbox_snippets(self) -> list[str]:
        """The sources of the snippet tests the host cannot judge, in order: they go to the
        sandbox's test process, never to the zygote or the program's process."""
        return [t.code for t in self.tests if isinstance(t, AssertTest) and t.check is None]

    def to_dict(self) -> dict[str, Any]:
        """The job in the DESIGN section 4 shape (`Job.from_dict` reads it back)."""
        return {
            "id": self.id,
            "language": self.language,
            "program": self.program,
            "tests": [_test_dict(t) for t in self.tests],
            "limits": self.limits.to_dict(),
            "mode": "first_failure" if self.first_failure else "all",
        }

    def content_hash(self, runtime: str) -> str:
        """Stable hash of everything that decides the result (for caching)."""
        body = json.dumps(
            [
                runtime,
                self.language,
                self.program,
                [_test_key(t) for t in self.tests],
                self.limits.to_dict(),
                self.first_failure,
            ],
            sort_keys=True,
            ensure_ascii=False,
            default=repr,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Any, defaults: Limits = Limits(), rules: JobRules = JobRules()) -> Job:
        """Validate a job in the DESIGN section 4 shape; raise InvalidJob naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidJob("job", "must be a JSON object")
        known = {"id", "language", "program", "tests", "limits", "mode"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidJob(unknown[0], f"unknown field (known: {', '.join(sorted(known))})")
        job_id = data.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise InvalidJob("id", "missing or not a non-empty string")
        language = data.get("language", "python")
        if language not in LANGUAGES:
            raise InvalidJob("language", f"unknown language {language!r} (supported: {', '.join(LANGUAGES)})")
        program = data.get("program")
        if not isinstance(program, str):
            raise InvalidJob("program", "missing or not a string")
        if len(program.encode("utf-8", "surrogatepass")) > rules.max_program_bytes:
            raise InvalidJob("program", f"larger than {rules.max_program_bytes} bytes")
        mode = data.get("mode", "all")
        if mode not in MODES:
            raise InvalidJob("mode", f"must be one of {', '.join(MODES)}")
        limits = defaults.merged(data.get("limits"))
        # Test data travels to the sandbox as JSON text: a lone surrogate in a stdin or an
        # argument cannot (it took the zygote down: infra_error). Refused here, naming it.
        check_writable(data.get("tests"), "tests")
        tests = parse_tests(data.get("tests"), rules)
        return cls(job_id, program, tests, language, limits, mode == "first_failure")


def parse_tests(raw: Any, rules: JobRules = JobRules()) -> tuple[Test, ...]:
    """Validate a `tests` list (assert strings, stdio dicts or call dicts)."""
    if not isinstance(raw, list):
        raise InvalidJob("tests", "missing or not a list")
    if not raw:
        raise InvalidJob("tests", "is empty")
    if len(raw) > rules.max_tests:
        raise InvalidJob("tests", f"has {len(raw)} tests; at most {rules.max_tests} allowed")
    tests: list[Test] = []
    for i, item in enumerate(raw):
        where = f"tests[{i}]"
        size = len(item) if isinstance(item, str) else len(json.dumps(item, ensure_ascii=False, default=repr))
        if size > rules.max_test_bytes:
            raise InvalidJob(where, f"larger than {rules.max_test_bytes} bytes")
        tests.append(_parse_test(item, where))
    if any(isinstance(t, StdioTest) for t in tests) and not all(isinstance(t, StdioTest) for t in tests):
        raise InvalidJob("tests", "stdin/stdout tests cannot be mixed with assert or call tests in one job")
    return _after_snippet_names(tests)


def _after_snippet_names(tests: list[Test]) -> tuple[Test, ...]:
    """An assert that uses a name an earlier snippet test defined runs where that name lives:
    in the sandbox's test process, as a snippet, not as probes in the program's process."""
    defined: set[str] = set()
    anything = False  # an earlier snippet may have bound any name
    out: list[Test] = []
    for t in tests:
        if isinstance(t, AssertTest):
            if t.check is None:
                names = bound_names(t.code)
                if names is None:
                    anything = True
                else:
                    defined |= names
            elif anything or (defined and any(defined & free_names(p) for p in t.check.probes)):
                t = AssertTest(t.code, None)
        out.append(t)
    return tuple(out)


def _parse_test(item: Any, where: str) -> Test:
    if isinstance(item, str):
        if not item.strip():
            raise InvalidJob(where, "empty test")
        return AssertTest.of(item)
    if not isinstance(item, Mapping):
        raise InvalidJob(where, "must be a string (assert) or an object (stdin/stdout or call test)")
    if "call" in item:
        unknown = sorted(set(item) - {"call", "args", "expected"})
        if unknown:
            raise InvalidJob(f"{where}.{unknown[0]}", "unknown field in a call test")
        if not isinstance(item["call"], str) or not item["call"].isidentifier():
            raise InvalidJob(f"{where}.call", "must be a function name")
        args = item.get("args", [])
        if not isinstance(args, list):
            raise InvalidJob(f"{where}.args", "must be a list")
        if "expected" not in item:
            raise InvalidJob(f"{where}.expected", "missing")
        return CallTest(item["call"], tuple(args), item["expected"])
    if "stdin" in item or "expected_stdout" in item:
        unknown = sorted(set(item) - {"stdin", "expected_stdout", "checker", "tolerance"})
        if unknown:
            raise InvalidJob(f"{where}.{unknown[0]}", "unknown field in a stdin/stdout test")
        stdin = item.get("stdin", "")
        expected = item.get("expected_stdout")
        if not isinstance(stdin, str):
            raise InvalidJob(f"{where}.stdin", "must be a string")
        if not isinstance(expected, str):
            raise InvalidJob(f"{where}.expected_stdout", "missing or not a string")
        checker = item.get("checker", "tokens")
        if checker not in checkers.CHECKERS:
            raise InvalidJob(f"{where}.checker", f"must be one of {', '.join(checkers.CHECKERS)}")
        tolerance = item.get("tolerance", 1e-6)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
            raise InvalidJob(f"{where}.tolerance", "must be a number in [0, 1)")
        return StdioTest(stdin, expected, checker, float(tolerance))
    raise InvalidJob(where, "an object test needs either 'call' or 'stdin'/'expected_stdout'")


def _test_key(test: Test) -> Any:
    if isinstance(test, AssertTest):
        return ["assert", test.code]
    if isinstance(test, CallTest):
        return ["call", test.func, list(test.args), test.expected]
    return ["stdio", test.stdin, test.expected_stdout, test.checker, test.tolerance]


def _test_dict(test: Test) -> Any:
    if isinstance(test, AssertTest):
        return test.code
    if isinstance(test, CallTest):
        return {"call": test.func, "args": list(test.args), "expected": test.expected}
    return {
        "stdin": test.stdin,
        "expected_stdout": test.expected_stdout,
        "checker": test.checker,
        "tolerance": test.tolerance,
    }
