"""Jobs: one program and its tests, validated plain data.

A Job holds what its sender wrote, checked field by field; it carries no plan. The tests'
kinds live in judging/ (one module each); a job is planned once, where it runs
(judging/prepare.py). A `tests` value in the code-RL datasets' shape ({"inputs", "outputs",
"fn_name"?}, judging/formats.py) is expanded into those kinds here, when it is validated.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import InvalidJob
from .judging import formats, registry, special
from .judging.accepted import AcceptedStdioTest
from .judging.call import CallTest
from .judging.kind import STDIO
from .judging.raw import RawRun
from .judging.snippet import AssertTest
from .judging.special import Checker
from .judging.stdio import StdioTest
from .languages import NAMES, PYTHON
from .limits import DEFAULTS as DEFAULT_LIMITS
from .limits import Limits
from .sandbox.preludes import PRELUDES
from .text import check_writable

LANGUAGES = NAMES  # python first; the others run as commands (languages/)
MODES = ("all", "first_failure")


Test = AssertTest | CallTest | StdioTest | AcceptedStdioTest | RawRun


class Tests(tuple[Test, ...]):
    """A validated tests value (`parse_tests`): the tests, and `prelude`, the prelude their
    shape implies for a job that names none ("lcb" for the code-RL shape, else "").
    Immutable, so its digest (`suite_digest`) is computed once: the jobs of a GRPO group
    share one."""

    prelude: str
    _digest: str | None

    def __new__(cls, tests: Iterable[Test] = (), prelude: str = "") -> Tests:
        self = super().__new__(cls, tests)
        self.prelude = prelude
        self._digest = None
        return self


_SLICE = 64 * 1024


@functools.cache
def judge_revision() -> str:
    """A hash of this package's code: results cached by an older judge (a verdict rule since
    changed) are never served by a newer one, however long the cache keeps them."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def suite_digest(tests: tuple[Test, ...]) -> str:
    """A stable hash of a suite: each test's kind and JSON form, in order. Kept on a `Tests`
    value (computed once for all the jobs that share it), computed afresh for a plain tuple."""
    kept = getattr(tests, "_digest", None)
    if kept is not None:
        return str(kept)
    # The JSON text of the list of keys, hashed a test and a slice at a time: a suite may be
    # megabytes, and a server holds every copy of it at once.
    h = hashlib.sha256(b"[")
    for i, test in enumerate(tests):
        # In the tests' own order, dict keys too: a program sees {"b": 2, "a": 1} in that order.
        text = json.dumps(registry.key(test), ensure_ascii=False, default=repr)
        if i:
            h.update(b", ")
        for k in range(0, len(text), _SLICE):
            h.update(text[k : k + _SLICE].encode("utf-8", "surrogatepass"))
    h.update(b"]")
    digest = h.hexdigest()
    if isinstance(tests, Tests):
        tests._digest = digest
    return digest


@dataclass(frozen=True)
class JobRules:
    """Size limits on what a job may carry."""

    max_program_bytes: int = 256 * 1024
    max_tests: int = 2000
    # One test as UTF-8 JSON, a stdin/stdout test's input and expected output together: code
    # contests' large cases (200,000 numbers each way) run to a few MiB.
    max_test_bytes: int = 16 << 20
    # All of a job's tests together, as UTF-8 JSON (a gRPC message's cap): a right program's stdout
    # for them fits in what a sandbox sends back for one job (sandbox/zygote.py).
    max_tests_bytes: int = 64 << 20

    @classmethod
    def unbounded(cls) -> JobRules:
        """No size rules: a client checks a job's shape, the server applies its own rules."""
        return cls(1 << 62, 1 << 62, 1 << 62, 1 << 62)


@dataclass(frozen=True)
class Job:
    """One program, its tests and limits. Build with `Job.from_dict` or directly."""

    id: str
    program: str
    tests: tuple[Test, ...]
    language: str = "python"
    limits: Limits = DEFAULT_LIMITS
    first_failure: bool = False
    prelude: str = ""  # a name in sandbox/preludes.py: trusted imports run before the program
    checker: Checker | None = None  # a special judge for its stdin/stdout tests (judging/special.py)

    def to_dict(self) -> dict[str, Any]:
        """The job in the DESIGN section 4 shape (`Job.from_dict` reads it back)."""
        data: dict[str, Any] = {
            "id": self.id,
            "language": self.language,
            "program": self.program,
            "tests": [registry.to_raw(t) for t in self.tests],
            "limits": self.limits.to_dict(),
            "mode": "first_failure" if self.first_failure else "all",
        }
        if self.prelude:
            data["prelude"] = self.prelude
        if self.checker is not None:
            data["checker"] = self.checker.to_raw()
        return data

    def content_hash(self, runtime: str) -> str:
        """Stable hash of everything that decides the result (for caching): the judge's code
        (`judge_revision`), the runtime, the language, the program, the suite (by its digest,
        `suite_digest`), the limits, the mode, the prelude and the checker."""
        body = json.dumps(
            [
                judge_revision(),
                runtime,
                self.language,
                self.program,
                suite_digest(self.tests),
                self.limits.to_dict(),
                self.first_failure,
                *([self.prelude] if self.prelude else []),
                *([{"checker": self.checker.to_raw()}] if self.checker is not None else []),
            ],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def from_dict(cls, data: Any, defaults: Limits = DEFAULT_LIMITS, rules: JobRules = JobRules()) -> Job:
        """Validate a job in the DESIGN section 4 shape; raise InvalidJob naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidJob("job", "must be a JSON object")
        known = {"id", "language", "program", "tests", "limits", "mode", "prelude", "checker"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidJob(unknown[0], f"unknown field (known: {', '.join(sorted(known))})")
        job = cls.from_parts(
            data.get("id"),
            data.get("program"),
            (),
            data.get("language", "python"),
            defaults,
            data.get("mode", "all"),
            rules,
            data.get("prelude"),
        )
        limits = defaults.merged(data.get("limits"))
        checker = special.parse(data.get("checker"), rules.max_program_bytes)
        tests = parse_tests(data.get("tests"), rules)
        check_language(job.language, tests, data.get("prelude"))
        check_checker(checker, tests)
        prelude = tests.prelude if data.get("prelude") is None else job.prelude
        if job.language != PYTHON:
            prelude = ""
        return replace(job, tests=tests, limits=limits, prelude=prelude, checker=checker)

    @classmethod
    def from_parts(
        cls,
        job_id: Any,
        program: Any,
        tests: tuple[Test, ...],
        language: Any = "python",
        limits: Limits = DEFAULT_LIMITS,
        mode: Any = "all",
        rules: JobRules = JobRules(),
        prelude: Any = None,
        checker: Any = None,
    ) -> Job:
        """A job from fields read elsewhere and `tests` already parsed (`parse_tests`): the
        fields are validated here, as `from_dict` does; raise InvalidJob naming the field.
        `prelude` None: the one the tests' shape implies (`Tests.prelude`). `checker`: the
        job's special judge in its JSON form (or a Checker), None for none."""
        if type(job_id) is int:  # MBPP's task_id, HumanEval-style numbering: its text, as rows' ids are
            job_id = str(job_id)
        if not isinstance(job_id, str) or not job_id:
            raise InvalidJob("id", "missing or not a non-empty string")
        if not isinstance(language, str) or language not in LANGUAGES:
            raise InvalidJob("language", f"unknown language {language!r} (supported: {', '.join(LANGUAGES)})")
        if not isinstance(program, str):
            raise InvalidJob("program", "missing or not a string")
        if len(program.encode("utf-8", "surrogatepass")) > rules.max_program_bytes:
            raise InvalidJob("program", f"larger than {rules.max_program_bytes} bytes")
        if not isinstance(mode, str) or mode not in MODES:
            raise InvalidJob("mode", f"must be one of {', '.join(MODES)}")
        check_language(language, tests, prelude)
        prelude = check_prelude(getattr(tests, "prelude", "") if prelude is None else prelude)
        if language != PYTHON:
            prelude = ""  # a prelude is Python text (the code-RL shape's imports)
        parsed = special.parse(checker, rules.max_program_bytes)
        check_checker(parsed, tests)
        return cls(job_id, program, tests, language, limits, mode == "first_failure", prelude, parsed)


def check_language(language: str, tests: tuple[Test, ...], prelude: Any = None) -> None:
    """A language other than Python takes stdin/stdout tests and raw runs only (InvalidJob
    naming the first test that is not one)."""
    if language == PYTHON:
        return
    if prelude:
        raise InvalidJob("prelude", f"a prelude is Python; language {language!r} takes none")
    for i, test in enumerate(tests):
        if registry.kind_of(test).mode != STDIO:
            raise InvalidJob(
                f"tests[{i}]",
                f"assert, snippet and call tests are Python-only; a {language!r} job takes stdin/stdout "
                "tests and raw runs",
            )


def check_checker(checker: Checker | None, tests: tuple[Test, ...]) -> None:
    """A job with a checker has stdin/stdout tests only: their expected outputs are the
    answers it reads (InvalidJob naming the first test that is not one)."""
    if checker is None:
        return
    for i, test in enumerate(tests):
        if not isinstance(test, StdioTest):
            raise InvalidJob(
                f"tests[{i}]",
                "a job with a checker takes stdin/stdout tests ({'stdin', 'expected_stdout'}) only: "
                "the expected output is the answer the checker reads",
            )


def check_prelude(prelude: Any) -> str:
    """A job's `prelude`: a name in sandbox/preludes.py, or "" for none (raises InvalidJob)."""
    if not isinstance(prelude, str) or (prelude and prelude not in PRELUDES):
        raise InvalidJob("prelude", f'unknown prelude {prelude!r} (known: {", ".join(PRELUDES)}, or "" for none)')
    return prelude


def parse_tests(raw: Any, rules: JobRules = JobRules()) -> Tests:
    """Validate a `tests` value: a list (each test in its kind's JSON form,
    judging/registry.py), or the code-RL datasets' shape (judging/formats.py), as an object
    or its JSON text, expanded into such tests."""
    # Test data travels to the sandbox as JSON text: a lone surrogate in a stdin or an
    # argument cannot (it took the zygote down: infra_error). Refused here, naming it, for
    # every path that builds tests (formats.py checks JSON text it reads the same way).
    if isinstance(raw, list) and len(raw) > rules.max_tests:  # before walking them
        raise InvalidJob("tests", f"has {len(raw)} tests; at most {rules.max_tests} allowed")
    expanded = formats.expand(raw, max_tests=rules.max_tests)
    if isinstance(raw, (list, dict, str)):
        check_writable(raw, "tests")
    if expanded is not None:
        raw, fields, prelude = expanded.tests, expanded.fields, expanded.prelude
    elif isinstance(raw, list):
        fields, prelude = [f"tests[{i}]" for i in range(len(raw))], ""
    else:
        raise InvalidJob("tests", "missing or not a list (nor the inputs/outputs object of the code-RL datasets)")
    if not raw:
        raise InvalidJob("tests", "is empty")
    if len(raw) > rules.max_tests:
        raise InvalidJob("tests", f"has {len(raw)} tests; at most {rules.max_tests} allowed")
    tests: list[Test] = []
    total = 0
    for item, where in zip(raw, fields, strict=True):
        try:
            text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, default=repr)
        except ValueError:  # an int past the interpreter's digit limit: no JSON writer takes it
            raise InvalidJob(where, "holds an integer too long to write as JSON (over 4300 digits)") from None
        except RecursionError:
            raise InvalidJob(where, "nested too deeply to write as JSON") from None
        size = len(text.encode("utf-8", "surrogatepass"))  # bytes, as a sandbox's answer counts them
        if size > rules.max_test_bytes:
            what = "bytes as JSON" if isinstance(item, str) else "bytes as JSON, all its fields together"
            raise InvalidJob(where, f"{size} {what}, more than the {rules.max_test_bytes} a test may hold")
        total += size
        if total > rules.max_tests_bytes:
            raise InvalidJob("tests", f"more than {rules.max_tests_bytes >> 20} MiB together (at {where})")
        tests.append(registry.parse(item, where))
    modes = {registry.kind_of(t).mode for t in tests}
    if len(modes) > 1:
        raise InvalidJob("tests", "stdin/stdout tests cannot be mixed with assert or call tests in one job")
    return Tests(tests, prelude)
