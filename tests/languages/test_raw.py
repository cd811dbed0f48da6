"""Raw runs (judging/raw.py) in every language: what the program printed on stdout and on
stderr, how it ended, and which limit ended it; a program that does not compile says why."""

from __future__ import annotations

import pytest

from .programs import PROGRAMS, RAW_EXIT, RAW_STDERR, RAW_STDIN, RAW_STDOUT
from .support import job, raw, require, show

LANGUAGES = tuple(PROGRAMS)


def one(result):
    (test,) = result.tests
    return test, test.output


@pytest.mark.parametrize("lang", LANGUAGES)
def test_stdout_stderr_and_exit_status(pool, lang):
    require(pool, lang)
    r = pool.run(job(lang, PROGRAMS[lang]["raw"], raw(RAW_STDIN)))
    test, out = one(r)
    assert (out.stdout, out.stderr, out.exit_code, out.signal, out.limit) == (
        RAW_STDOUT,
        RAW_STDERR,
        RAW_EXIT,
        None,
        None,
    ), show(r)
    assert test.verdict.value == "runtime_error" and f"exited with status {RAW_EXIT}" in (test.message or ""), show(r)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_clean_exit_passes(pool, lang):
    require(pool, lang)
    r = pool.run(job(lang, PROGRAMS[lang]["right"], raw("20 22\n")))
    test, out = one(r)
    assert test.verdict.value == "passed" and (out.stdout, out.exit_code) == ("42\n", 0), show(r)


@pytest.mark.parametrize("lang", ["c", "java", "javascript"])
def test_a_limit_says_which(pool, lang):
    require(pool, lang)
    r = pool.run(job(lang, PROGRAMS[lang]["cpu_loop"], raw(), cpu_s=0.3, wall_s=5))
    test, out = one(r)
    assert test.verdict.value == "timeout" and out.limit == "timeout" and out.signal == "SIGKILL", show(r)
    r = pool.run(job(lang, PROGRAMS[lang]["memory"], raw(), memory_mb=128, cpu_s=5, wall_s=10))
    test, out = one(r)
    assert test.verdict.value == "memory_exceeded" and out.limit == "memory", show(r)


@pytest.mark.parametrize("lang", ["cpp", "rust"])
def test_a_program_that_does_not_compile(pool, lang):
    require(pool, lang)
    r = pool.run(job(lang, PROGRAMS[lang]["compile_error"], raw()))
    test, _ = one(r)
    assert r.verdict.value == "compile_error" and test.verdict.value == "compile_error", show(r)
    assert "error" in (test.message or ""), show(r)
