"""The host parses test text from many threads at once (pool threads prepare jobs): CPython
3.11's AST conversion keeps its recursion depth per interpreter, so unserialized parses race
("SystemError: AST constructor recursion depth mismatch")."""

import ast
import gc
import threading

from executor.judging.parsing import more_nodes_than, parse, walk_structure

SOURCE = (
    "def check(c):\n"
    + "".join(f"    assert c({i}) == [{i}, ({i}, {{'a': [{i}]}})]\n" for i in range(300))
    + "check(f)\n"
)


class _Finalized:
    """Garbage with a finalizer: collecting it runs Python code, where threads switch."""

    def __del__(self) -> None:
        sum(range(50))


def test_parsing_from_many_threads_at_once():
    errors: list[str] = []

    def work() -> None:
        for _ in range(60):
            try:
                parse(SOURCE)
            except SystemError as exc:
                errors.append(str(exc))
                return
            for _ in range(50):
                g = _Finalized()
                g.cycle = g

    old = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.set_threshold(*old)
    assert errors == []


SHAPES = [
    "assert f([1, 2, 3]) == {'a': (1, 2), 'b': None}",
    "x = [i for i in range(3)]\nassert x == [0, 1, 2]",
    "def g(a, *b, c=1, **d):\n    return [a, b, c, d]\nassert g(1) == [1, (), 1, {}]",
    "import math\nassert math.isclose(f(1.5), 2.25, rel_tol=1e-9)",
    "assert f() == [0" + ",0" * 3000 + "]",
    "global q\nassert (y := f()) == -1 and q[0] == b'x'",
]


def test_counting_nodes_stops_at_the_limit_and_agrees_with_ast_walk():
    for source in SHAPES:
        tree = parse(source)
        n = sum(1 for _ in ast.walk(tree))
        for limit in (0, 5, n - 1, n, n + 1):
            assert more_nodes_than(tree, limit) is (n > limit), (source[:40], n, limit)


def test_the_structure_walk_skips_only_constants():
    for source in SHAPES:
        tree = parse(source)
        want = [type(n).__name__ for n in ast.walk(tree) if type(n) is not ast.Constant]
        assert sorted(type(n).__name__ for n in walk_structure(tree)) == sorted(want)


def test_a_big_literal_costs_the_host_little_beyond_its_parse():
    # ~500,000 items: the walks visit the literal's list node, not each item (ast.walk calls
    # iter_fields on every one); bound_names and the planner's node cap used to take seconds.
    source = "assert f() == [0" + ",0" * 250_000 + "]"
    tree = parse(source)
    assert more_nodes_than(tree, 40_000)
    # Module, Assert, Compare, Eq, Call, Name, Load, List, Load: none of the 250,001 items
    assert len(list(walk_structure(tree))) == 9
