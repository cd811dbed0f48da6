"""The one vocabulary of phase statuses (executor/sandbox/statuses.py)."""

import re
import tokenize
from pathlib import Path

from executor import Verdict
from executor.judging.kind import STATUS_VERDICTS as _STATUS
from executor.sandbox import statuses

ROOT = Path(__file__).resolve().parents[2] / "executor"


def test_every_status_but_ok_has_a_verdict_and_a_place_in_the_precedence():
    assert set(_STATUS) == statuses.ALL - {statuses.OK}
    assert len(statuses.PRECEDENCE) == len(statuses.ALL)
    assert statuses.CHILD <= statuses.ALL and statuses.PART not in statuses.ALL
    assert all(isinstance(v, Verdict) for v in _STATUS.values())


def test_precedence_names_a_phase_several_causes_ended():
    assert statuses.first(statuses.CRASH, statuses.MEMORY) == statuses.MEMORY  # an OOM kill
    assert statuses.first(statuses.FAIL, statuses.TIMEOUT) == statuses.TIMEOUT
    assert statuses.first(statuses.OK, statuses.SKIPPED) == statuses.SKIPPED


def _code_lines(path):
    """(number, text) of the lines of `path` that are code: no comment, no docstring."""
    docs = set()
    with open(path, "rb") as fh:
        for tok in tokenize.tokenize(fh.readline):
            if tok.type == tokenize.STRING and tok.string.lstrip("rbuRBU").startswith(('"""', "'''")):
                docs.update(range(tok.start[0], tok.end[0] + 1))
    return [
        (n, line)
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if n not in docs and not line.lstrip().startswith("#")
    ]


def test_no_status_string_is_written_outside_the_vocabulary():
    # verdict.py is the verdicts' own vocabulary; rpc.py's "ok" is a reply's field, not a status;
    # `.get("output")` reads a key named like one (a raw run's output).
    words = "|".join(sorted(statuses.ALL | {statuses.PART}))
    minted = re.compile(r'(PhaseEnd\(|"s": |return |(?<!\.get)\(|== |!= |= )"(%s)"' % words)
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in [*ROOT.glob("*.py"), *ROOT.glob("sandbox/*.py"), *ROOT.glob("judging/*.py")]
        if path.name not in ("statuses.py", "verdict.py", "rpc.py")
        for n, line in _code_lines(path)
        if minted.search(line)
    ]
    assert offenders == []
