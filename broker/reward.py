"""OpenRLHF's remote reward (`POST /get_reward`): {query, prompts, labels} -> rewards.

OpenRLHF (`--reward.remote_url http://HOST:PORT/get_reward`) posts
``{"query": [prompt + response], "prompts": [prompt], "labels": [label]}`` (one rollout per
request in 0.11, a batch in older versions) and reads ``{"rewards", "scores", "extra_logs"}``,
one number per query, which it turns into tensors: every value here is a number.

- The completion is the query minus its prompt: the text after the prompt where the query
  starts with it (the usual case), else after the prompt's last occurrence in the query, else
  the whole query (a prompt the tokenizer did not decode back verbatim); `extra_logs`
  `prompt_found` says which samples had their prompt found (1) or not (0).
- The label carries the tests: a list of tests in any form a job takes, a JSON string of
  one, an object {"tests": [...]}, or a JSON string or object of any other shape `tests`
  takes (the standard `{"inputs", "outputs", "fn_name"}` where the farm reads it), or a
  Python literal of such a list or object (a dataset that stored `str(tests)`); other text is
  one assert snippet. A label the farm cannot read refuses the
  request (400 naming `labels[i]...`): bad data is not a zero reward.
- The program is extracted from the completion (broker/extract.py) as `acefarm score` does.
- The reward is the pass rate, or 1/0 for all tests passed with `binary`. A sample the farm
  could not run (infra_error) gets reward and score 0.0, flagged by `extra_logs`
  `infra_error` = 1 (OpenRLHF cannot take a missing reward); with on_infra_error "error" the
  whole request is answered 503 instead, which OpenRLHF retries.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from executor import InvalidJob, Job, JobResult, JobRules, Limits, Verdict
from executor.job import Tests, parse_tests
from executor.judging.asserts import node_estimate
from executor.judging.snippet import AssertTest
from executor.text import check_job_text

from .extract import called_names, extract_code


class GetRewardRequest(BaseModel):
    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any]


class GetRewardResponse(BaseModel):
    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]]


def completion_of(query: str, prompt: str | None) -> tuple[str, bool]:
    """(the response part of `query`, whether its prompt was found in it)."""
    if not prompt:
        return query, prompt is not None
    if query.startswith(prompt):
        return query[len(prompt) :], True
    at = query.rfind(prompt)
    if at >= 0:
        return query[at + len(prompt) :], True
    return query, False


# Labels read as Python literals, all of a request's together (one shared by many queries
# counts once): ast.literal_eval costs about 2.5 s of CPU and 0.5 GB a MB, holding the GIL,
# against json's 0.2 s. Past it a request is refused: send such labels as JSON.
LITERAL_LABEL_BYTES = 1 << 20
# A request's distinct labels' test snippets together, parsed here as Python (the names they
# call pick a completion's code block), in AST nodes as asserts.node_estimate counts them: a
# label of 8 MiB of `assert f(1) == 2` lines took 21 s, the GIL held. A large literal in an
# assert is one node.
SNIPPET_LABEL_NODES = 200_000


def label_tests(label: Any, literal_budget: list[int] | None = None) -> Any:
    """The tests a label carries, in the form a job's `tests` takes. `literal_budget`: [bytes]
    of Python-literal text still to be read in this request (taken from as it is read)."""
    if isinstance(label, str):
        try:
            label = json.loads(label)
        except ValueError:
            label = _not_json(label, literal_budget if literal_budget is not None else [LITERAL_LABEL_BYTES])
        except RecursionError:
            raise InvalidJob("tests", "JSON nested too deeply") from None
        if isinstance(label, str):
            return [label]
    if isinstance(label, dict) and "tests" in label:
        return label["tests"]
    return label


def _not_json(text: str, budget: list[int]) -> Any:
    """A label that is not JSON: a list or dict written as a Python literal (a dataset that
    stored `str(tests)`), or else one assert snippet. Text that opens as a list or an object
    and is neither is refused: read as a snippet it would assert nothing (every program would
    pass), or not compile (every program would fail)."""
    if text.lstrip()[:1] not in ("[", "{"):
        return text
    budget[0] -= len(text)
    if budget[0] < 0:
        raise InvalidJob(
            "tests",
            f"not JSON: labels written as Python literals are read up to {LITERAL_LABEL_BYTES >> 20} MiB "
            "a request (send them as JSON)",
        )
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = None
    if isinstance(value, (list, dict)):
        return value
    try:  # a snippet that opens with a display (`[a, b] = f(1)` and more lines) is a snippet
        body = ast.parse(text).body
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        body = []
    if body and not (len(body) == 1 and isinstance(body[0], ast.Expr)):
        return text
    raise InvalidJob("tests", "opens as a list or object but is neither JSON nor a Python literal of one")


def jobs_for(request: GetRewardRequest, defaults: Limits, rules: JobRules) -> tuple[list[Job], list[bool]]:
    """One job per query, and whether each prompt was found; InvalidJob names the field."""
    n = len(request.query)
    if not n:
        raise InvalidJob("query", "is empty")
    if len(request.labels) != n:
        raise InvalidJob("labels", f"has {len(request.labels)} labels for {n} queries")
    if request.prompts is not None and len(request.prompts) != n:
        raise InvalidJob("prompts", f"has {len(request.prompts)} prompts for {n} queries")
    jobs, found = [], []
    # Each label's tests, read once (and the names they call, which pick the program's code
    # block): a GRPO group's samples share one label.
    read: dict[str, tuple[Any, Tests, set[str]]] = {}
    literal_budget, snippet_nodes = [LITERAL_LABEL_BYTES], SNIPPET_LABEL_NODES
    for i, (query, label) in enumerate(zip(request.query, request.labels)):
        prompt = request.prompts[i] if request.prompts is not None else None
        completion, seen = completion_of(query, prompt)
        try:
            suite = read.get(label) if isinstance(label, str) else None
            if suite is None:
                raw = label_tests(label, literal_budget)
                tests = parse_tests(raw, rules)  # its text checked writable there, as a job's
                snippet_nodes -= sum(node_estimate(t.code) for t in tests if isinstance(t, AssertTest))
                if snippet_nodes < 0:
                    raise InvalidJob(
                        "tests", f"labels' test snippets past {SNIPPET_LABEL_NODES} lines, calls and commas a request"
                    )
                suite = (raw, tests, called_names(raw))
                if isinstance(label, str):
                    read[label] = suite
            raw, tests, wanted = suite
            program = extract_code(completion, raw, prompt if seen else None, wanted)
            check_job_text({"program": program})
            jobs.append(Job.from_parts(f"reward/{i}", program, tests, limits=defaults, rules=rules))
        except InvalidJob as exc:
            where = f"labels[{i}]" if exc.field.startswith("tests") else f"query[{i}]"
            field = exc.field[len("tests") :] if exc.field.startswith("tests") else ""
            raise InvalidJob(f"{where}{field}", exc.message) from None
        found.append(seen)
    return jobs, found


def rewards(results: Sequence[JobResult], found: Sequence[bool], binary: bool) -> GetRewardResponse:
    """OpenRLHF's answer: rewards (pass rates, or 1/0), scores (the same, in [0, 1]), logs."""
    values, infra = [], []
    for r in results:
        failed_farm = r.verdict is Verdict.INFRA_ERROR
        infra.append(1.0 if failed_farm else 0.0)
        if failed_farm:
            values.append(0.0)
        elif binary:
            values.append(1.0 if r.verdict is Verdict.PASSED else 0.0)
        else:
            values.append(r.pass_rate)
    logs = {
        "pass_rate": [0.0 if r.verdict is Verdict.INFRA_ERROR else r.pass_rate for r in results],
        "infra_error": infra,
        "prompt_found": [1.0 if f else 0.0 for f in found],
    }
    return GetRewardResponse(rewards=values, scores=list(values), extra_logs=logs)
