"""expected.py: a comparison's operands rebuilt for the trusted side (plain data here; the
program objects and calls are covered with real sandboxes in tests/security/test_both_sides.py)."""

from executor.sandbox import expected
from executor.sandbox.codec import Constructed, Opaque


def test_plain_data_is_its_trusted_copy():
    value = {"a": [1, (2, 3)], "b": {4, 5}}
    out = expected.resolved(value)
    assert out == value and out is not value
    assert not expected.involves(value)


def test_a_call_is_found_inside_containers_and_kept():
    call = Constructed("Point", [1, 2], {})
    value = [{"k": (call,)}]
    assert expected.involves(value)
    out = expected.resolved(value)
    assert out[0]["k"][0] is call


def test_a_value_of_no_builtin_type_stays_opaque():
    class Mine:
        pass

    assert isinstance(expected.resolved(Mine()), Opaque)
    assert not expected.involves([Mine()])


def test_a_kept_call_is_not_made_for_a_plain_argument():
    # Nothing was kept: arguments go to a call as they are.
    expected.forget()
    data = [1, 2, 3]
    assert expected.make("len", len, (data,), {}) == 3
    call = Constructed("Point", [1, 2], {})
    assert expected.make("id", id, (call,), {}) == id(call)
