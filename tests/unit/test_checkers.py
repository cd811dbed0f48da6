import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.judging import checkers


def test_exact_ignores_only_trailing_whitespace():
    assert checkers.exact("3\n", "3")
    assert not checkers.exact("1 2\n", "1  2\n")
    assert checkers.exact("1\r\n2\r\n", "1\n2\n") and not checkers.exact("1\r\n2", "1\n3")
    # Trailing characters a reader cannot see are still characters: ASCII whitespace only.
    for junk in ("\xa0", "\x1c\x1d\x1e\x1f", "\x85", "\u3000", "\u2028"):
        assert not checkers.exact("a", "a" + junk) and not checkers.exact("1\n2" + junk, "1\n2")
        assert not checkers.matches_any("exact", 1e-6, ("a",), "a" + junk)


def test_tokens():
    assert checkers.tokens("1 2\n3\n", "1\n2 3")
    assert checkers.tokens("1 2\r\n", "1\t2")
    assert not checkers.tokens("1 2", "1 2 3")
    assert not checkers.tokens("1 2", "1\xa02") and not checkers.tokens("1 2", "1\x1c2")  # ASCII blanks only


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        ("3.14159265", "3.141592653589793", True),
        ("1e9", "1000000000.5", True),  # relative tolerance
        ("0.5 yes", "0.5000001 yes", True),
        ("0.5 yes", "0.5 no", False),
        ("1.0", "1.1", False),
        ("1.0", "abc", False),
        ("1 2", "1", False),
        ("1000000", "1000001", False),  # integers on both sides compare exactly
        ("1000000", "1000000.0", True),  # a decimal point on one side: the tolerance applies
        ("3", "2.9999999", True),
        ("1000000007", "1000000000.0", False),  # an expected integer: the absolute tolerance only
        ("1000000007", "1e9", False),
        ("1500000", "1500001.0", False),
        ("1000000007.0", "1000000000", True),  # an expected decimal: relative too, as testlib
        ("1000000000000000007", "1e18", False),  # exactly, not through a double
        ("1000000000000000007", "1000000000000000007.0000001", True),
        ("1" + "0" * 400, "9e999", False),  # both past a double's range
        ("1" + "0" * 400, "1e400", True),
        ("1e400", "2e400", False),
        ("0", "1e-999999999", True),
        ("5", "1e999999999", False),
        ("1", "1e9999999999999999999999999", False),  # past a Decimal's exponents: never equal
        ("1.5", "1e9999999999999999999999999", False),
        ("1e9999999999999999999999999", "1e9999999999999999999999999", True),  # the same text
        ("1e400", "1e9999999999999999999999999", False),
        ("-007", "-7", True),
        ("0", "-0", True),
        ("+5", "5", True),
        ("1" * 5000, "1" * 4999 + "2", False),  # however many digits
        ("nan", "nan", True),
        ("nan", "1.0", False),
        ("inf", "1e400", False),
        ("1_000", "1000", False),  # float() would read it; a checker does not
        ("3.5", "\u0663.\u0665", False),  # Arabic-Indic digits: float() reads them too
        ("5", "5.000", True),  # an integer printed with zeros after its point
        ("-12", "-12.0", True),
        ("007", "7.", True),
        ("0", "-0.0", True),
        ("5", "6.0", False),
        ("5", ".0", False),
        ("\u0665", "5.0", False),
        ("1 2", "1.0 1.0", False),  # a printed token judged equal once is not equal to every number
        ("0.5 0.6", "0.5000001 0.5000001", False),
        ("0.5 0.5 0.5", "0.500000000 0.500000000 0.500000000", True),
    ],
)
def test_float(expected, actual, ok):
    assert checkers.get("float", 1e-6)(expected, actual) is ok


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        ("3\n", "3", True),
        ("1 2\n3\n", "  1 2  \r\n3   \n\n", True),  # each line stripped, then the whole text
        ("1 2", "1\n2", False),  # as many lines on both sides
        ("1\n\n2", "1\n2", False),  # an inner empty line is a line
        ("1 2", "1   2", True),  # not equal as text, equal as numbers
        ("0.5", "0.500", True),  # numbers compare exactly as Decimals
        ("1000", "1e3", True),
        ("-0", "0", True),
        ("0.3", "0.30000001", False),  # no tolerance
        ("2.5", "2", False),
        ("Yes", "yes", False),  # words equal as text only
        ("YES 1", "YES 1.0", False),  # a line with a word is compared as text
        ("", "", True),
        ("", " \n ", True),
        ("nan", "nan", True),
        ("inf", "1e400", False),
        ("1000", "1_000", False),  # numbers as the float checker reads them
        ("3.5", "\u0663.\u0665", False),
        ("1 2", "1\xa02", False),  # ASCII whitespace
        ("1" * 5000, "1" * 4999 + "2", False),
        ("1e999999999999999999999", "1e999999999999999999999", True),
        ("1e999999999999999999999", "1e999999999999999999998", False),
    ],
)
def test_lines_is_livecodebenchs_comparison(expected, actual, ok):
    assert checkers.get("lines")(expected, actual) is ok


def test_unknown_checker():
    with pytest.raises(KeyError):
        checkers.get("regex")


_TEXT = st.text(alphabet=" \t\n\r0123456789.-+eE xyYES", max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(checkers.CHECKERS), st.lists(_TEXT, min_size=1, max_size=4), _TEXT)
def test_matching_any_of_several_is_matching_one_of_them(name, accepted, actual):
    check = checkers.get(name, 1e-3)
    want = any(check(a, actual) for a in accepted)
    assert checkers.matches_any(name, 1e-3, tuple(accepted), actual) == want


# What a program prints, shaped to make a backtracking number pattern try every split of a
# long digit run (quadratic: 40,000 digits then a letter held the judging thread for 29 s).
HOSTILE_OUTPUTS = {
    "digits then a letter": "1" * 200_000 + "x\n",
    "digits, a point, then a letter": "1" * 100_000 + "." + "1" * 100_000 + "x\n",
    "digits then an open exponent": "1" * 200_000 + "e\n",
    "many tokens, each spoiled": ("1" * 2_000 + "x ") * 100 + "\n",
    "a sign and digits then a sign": "-" + "1" * 200_000 + "-\n",
}


@pytest.mark.parametrize("name", checkers.CHECKERS)
@pytest.mark.parametrize("shape", sorted(HOSTILE_OUTPUTS))
def test_a_checker_is_linear_in_what_the_program_prints(name, shape):
    import time

    actual = HOSTILE_OUTPUTS[shape]
    before = time.thread_time()
    assert not checkers.get(name)("1\n", actual)
    assert not checkers.matches_any(name, 1e-6, ("1\n", "2\n", "1.5\n"), actual)
    assert time.thread_time() - before < 1.0  # linear: about 0.05 s; quadratic: minutes


_NUMBER = st.sampled_from(
    ["0", "1", "-1", "5", "007", "0.5", "0.50", "1.0", "5.000", "-1.0", "1e0", "0.5000001", "2.", "x"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NUMBER, _NUMBER), min_size=1, max_size=12))
def test_the_float_checker_judges_every_pair_as_on_its_own(pairs):
    """Pairs judged before are remembered, and integers printed with zeros take a shortcut:
    neither may change a verdict."""
    want, got = [w for w, _ in pairs], [g for _, g in pairs]
    alone = all(checkers._float_tokens([w], [g], 1e-6) for w, g in pairs)
    assert checkers._float_tokens(want, got, 1e-6) is alone


@pytest.mark.parametrize("name", ["float", "lines"])
def test_numbers_printed_other_than_expected_are_bounded_here(name):
    """Past IN_PROCESS_NUMBERS of work on numbers printed other than as expected, the host
    stops (TooCostly): the test is judged under the job's limits instead (stdio.judge_output)."""
    from executor.judging.budget import TooCostly

    expected = "".join(f"{i}\n" for i in range(50_000))
    printed = "".join(f"{i}.0\n" for i in range(50_000))
    assert checkers.matches_any(name, 1e-6, (expected,), printed)  # unbounded: equal
    assert checkers.matches_any(name, 1e-6, (expected,), expected, room=[1])  # the same text costs nothing
    with pytest.raises(TooCostly):
        checkers.matches_any(name, 1e-6, (expected,), printed, room=[100_000])
    # The bound is the test's, all its accepted outputs together: one that differs in its last
    # number costs what the right one does, and the two cost more than one's bound.
    room = [10**12]
    if name == "float":
        checkers._float_tokens(checkers.split(expected), checkers.split(printed), 1e-6, room)
    else:
        checkers._lines_match(checkers._stripped_lines(expected), checkers._stripped_lines(printed), room)
    one = 10**12 - room[0]
    assert checkers.matches_any(name, 1e-6, (expected,), printed, room=[one + checkers._SLOW])
    almost = expected[: -len("49999\n")] + "49998\n"
    with pytest.raises(TooCostly):
        checkers.matches_any(name, 1e-6, (almost, expected), printed, room=[one + one // 4])
    # A wrong number before the bound is a failure, found here.
    assert not checkers.matches_any(name, 1e-6, (expected,), "7.0\n" + printed[4:], room=[100_000])


@pytest.mark.parametrize("name", ["float", "lines"])
def test_a_long_number_costs_its_length_and_the_room_is_the_jobs(name):
    """One number of 250,000 digits printed other than as expected costs what parsing it does
    (in proportion to its length), however many accepted outputs it is compared with, and one
    room serves every test of a job (judge.judge makes it; stdio.judge_output takes from it)."""
    from executor.judging.budget import TooCostly

    long = "4." + "0" * 250_000 + "1\n"  # wrong for both (3 expected)
    if name == "float":  # the program's token parsed against each accepted output
        with pytest.raises(TooCostly):
            checkers.matches_any(name, 1e-6, ("3\n",) * 64, long, room=[1_000_000])
    else:  # the program's line parsed once, whatever the accepted outputs
        room = [1_000_000]
        assert not checkers.matches_any(name, 1e-6, ("3\n",) * 64, long, room)
        assert 250_000 // 4 <= 1_000_000 - room[0] < 2 * 250_000 // 4
    assert not checkers.matches_any(name, 1e-6, ("3\n",), "3.1\n", room=[1_000])  # a short one is cheap
    room = [checkers.IN_PROCESS_NUMBERS]
    with pytest.raises(TooCostly):
        for _ in range(50):  # fifty tests of one job
            assert not checkers.matches_any(name, 1e-6, ("3\n",) * 4, long, room)


def test_a_decimal_token_against_an_integer_is_judged_exactly_on_every_path():
    from executor.judging.checkers import _near_integer

    # Without an exponent (integers scaled by the decimals), and with one (Decimal arithmetic).
    assert _near_integer("1", "1.000001", 1e-6) and _near_integer("1", "1.", 1e-6)
    assert not _near_integer("1", "1.0000010000000001", 1e-6)
    assert _near_integer("-3", "-3.0000005", 1e-6) and _near_integer("0", "-0.0", 1e-6)
    assert not _near_integer("1000000000000000007", "1000000000000000000.0", 1e-6)
    assert _near_integer("5", "4.9999999e0", 1e-6) and not _near_integer("5", "4.99e0", 1e-6)
    assert not _near_integer("1", "1." + "0" * 80 + "2", 0.0)
