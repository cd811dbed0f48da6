from trainer.pairs import PairRule, make_pairs


def row(*rates, texts=None):
    texts = texts or [f"prog{i}" for i in range(len(rates))]
    return {
        "id": "q",
        "question": "Q?",
        "inferences": [{"completion": t, "pass_rate": r} for t, r in zip(texts, rates)],
    }


def pairs_of(r, rule=PairRule()):
    return [(p["chosen_pass_rate"], p["rejected_pass_rate"]) for p in make_pairs(r, rule)]


def test_acecoder_rule_at_the_thresholds():
    assert pairs_of(row(0.8, 0.4)) == [(0.8, 0.4)]  # exactly 0.8 and a gap of exactly 0.4
    assert pairs_of(row(0.79, 0.1)) == []  # chosen below 0.8
    assert pairs_of(row(0.8, 0.41)) == []  # gap below 0.4
    assert pairs_of(row(1.0, 0.0)) == []  # rejected must be > 0
    assert pairs_of(row(1.0, 0.6)) == [(1.0, 0.6)]


def test_all_qualifying_pairs_and_no_ties():
    got = pairs_of(row(1.0, 0.9, 0.5, 0.2, 0.0))
    assert sorted(got) == [(0.9, 0.2), (0.9, 0.5), (1.0, 0.2), (1.0, 0.5)]
    assert pairs_of(row(1.0, 1.0)) == []


def test_duplicates_and_unknown_rates():
    r = row(1.0, 1.0, 0.2, 0.2, None, texts=["a", "a", "b", "b", "c"])
    assert pairs_of(r) == [(1.0, 0.2)]  # duplicate programs count once
    assert pairs_of(row(1.0, None)) == []  # unscored (infra_error) never pairs


def test_trl_format_and_custom_thresholds():
    (p,) = make_pairs(row(0.7, 0.5), PairRule(min_chosen=0.6, min_gap=0.2, min_rejected=0.4))
    assert p["prompt"] == [{"role": "user", "content": "Q?"}]
    assert p["chosen"] == [{"role": "assistant", "content": "prog0"}]
    assert p["rejected"] == [{"role": "assistant", "content": "prog1"}]
    assert p["question_id"] == "q"


def test_a_rate_that_is_no_rate_never_pairs_and_is_the_rows_error():
    from trainer.pairs import pairs_or_error

    for bad in (5.0, -3, float("inf"), float("nan"), 10**400, "1.0", True):
        r = row(1.0, bad, 0.5)
        assert pairs_of(r) == [(1.0, 0.5)], bad  # the library skips it (a 400-digit int never overflows)
        assert [p for p in pairs_or_error(r) if isinstance(p, str)] == [
            "row q: inferences[1].pass_rate: must be a number from 0 to 1, or null (not scored)"
        ], bad
        assert not [p for p in pairs_or_error(r) if not isinstance(p, str)]
    assert [p["chosen_pass_rate"] for p in pairs_or_error(row(1.0, None, 0.5))] == [1.0]
