"""Programs that put unwritable text in their results, for the front-end tests.

Lone surrogates (`raise ValueError('\\ud800')`), NUL characters, invalid bytes on stdout and
stderr, huge messages: every front end (CLI, gRPC server, SDK, cluster, trainer) must write
each such result out, escaped as visible backslash text, and leave the other jobs' results
intact. Ids are plain; what is hostile is what the programs do.
"""

from __future__ import annotations

from typing import Any

F = "def f():\n    "

HOSTILE: list[dict[str, Any]] = [
    {"id": "raise-surrogate", "program": F + "raise ValueError('\\ud800')\n", "tests": ["assert f() == 1"]},
    {"id": "raise-nul", "program": F + "raise ValueError('a\\x00b')\n", "tests": ["assert f() == 1"]},
    {"id": "raise-huge", "program": F + "raise ValueError('\\udfff' * 10 ** 6)\n", "tests": ["assert f() == 1"]},
    {
        "id": "str-surrogate",
        "program": "class E(Exception):\n    def __str__(self):\n        return '\\ud800' * 50\n" + F + "raise E()\n",
        "tests": ["assert f() == 1"],
    },
    {"id": "key-surrogate", "program": F + "return {}['\\udc80\\x00']\n", "tests": ["assert f() == 1"]},
    {"id": "return-surrogate", "program": F + "return '\\ud800\\x00'\n", "tests": ["assert f() == 1"]},
    {
        "id": "load-surrogate",
        "program": "raise ValueError('\\ud800\\x00' * 1000)\n",
        "tests": ["assert f() == 1", "assert f() == 2"],
    },
    {
        "id": "stderr-bytes",
        "program": "import os\nos.write(2, b'\\xed\\xa0\\x80\\x00\\xff' * 20000)\nos._exit(3)\n",
        "tests": ["assert True"],
    },
    {
        "id": "stdout-bytes",
        "program": "import sys\nsys.stdout.buffer.write(b'\\xed\\xa0\\x80\\x00\\xff' * 1000)\n",
        "tests": [{"stdin": "", "expected_stdout": "1"}],
    },
    {
        "id": "call-surrogate",
        "program": F + "return '\\ud800' * 1000\n",
        "tests": [{"call": "f", "args": [], "expected": "x"}],
    },
    {
        "id": "snippet-surrogate",
        "program": F + "raise ValueError('\\ud800\\x00' * 1000)\n",
        "tests": ["import random\nassert f() == random.random()"],
    },
    {
        "id": "many-messages",
        "program": "def f(i):\n    raise ValueError(str(i) + '\\ud800' * 5000)\n",
        "tests": [f"assert f({i}) == 1" for i in range(150)],
    },
]

GOOD: list[dict[str, Any]] = [
    {"id": f"good-{i}", "program": f"def f():\n    return {i}\n", "tests": [f"assert f() == {i}", "assert f() != -1"]}
    for i in range(4)
]


def jobs() -> list[dict[str, Any]]:
    """Good jobs between the hostile ones."""
    out: list[dict[str, Any]] = []
    for i, job in enumerate(HOSTILE):
        if i % 3 == 0:
            out.append(GOOD[i // 3 % len(GOOD)] | {"id": f"good-{i}"})
        out.append(job)
    return out


def unwritable(value: Any, where: str = "") -> list[str]:
    """Paths of strings in a JSON-like value that hold a lone surrogate or a NUL."""
    if isinstance(value, str):
        return [where] if any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in value) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in unwritable(k, where) + unwritable(v, f"{where}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in unwritable(v, f"{where}[{i}]")]
    return []


def check_results(results: list[dict[str, Any]]) -> None:
    """Results (DESIGN section 4 dicts, in `jobs()` order) of every job: writable, escaped, intact."""
    by_id = {r["id"]: r for r in results}
    assert [r["id"] for r in results] == [j["id"] for j in jobs()]
    assert unwritable(results) == []
    for job in jobs():
        r = by_id[job["id"]]
        if job["id"].startswith("good-"):
            assert r["verdict"] == "passed" and r["pass_rate"] == 1.0, r
            continue
        assert r["verdict"] == "failed" and r["pass_rate"] == 0.0 and r["total"] == len(job["tests"]), r
        assert all(len(t.get("message", "")) <= 4096 for t in r["tests"])
        assert sum(len(t.get("message", "")) for t in r["tests"]) <= 64 * 1024 + 160 * len(r["tests"])
    for name in ("raise-surrogate", "raise-huge", "load-surrogate", "snippet-surrogate", "many-messages"):
        assert "\\ud800" in by_id[name]["tests"][0]["message"] or "\\udfff" in by_id[name]["tests"][0]["message"], (
            by_id[name]
        )
    assert "a\\x00b" in by_id["raise-nul"]["tests"][0]["message"]
    assert "\\ud800" in by_id["load-surrogate"]["message"]
    assert by_id["many-messages"]["tests"][149]["message"].startswith("ValueError: 149")
    assert "stderr: " in by_id["stderr-bytes"]["tests"][0]["message"]
