"""rpc.Endpoint between two threads over real pipes (the same code the test process and the
program's process run, there in two processes)."""

import os
import threading

import pytest

from executor.sandbox import frames, rpc


class Pair:
    """`program` serves in a thread (as the program's child does); `tests` makes requests."""

    def __init__(self, namespace):
        a_r, a_w = os.pipe()
        b_r, b_w = os.pipe()
        self.fds = (a_r, a_w, b_r, b_w)
        self.program = rpc.Endpoint(a_r, b_w, rpc.ALL_OPS, namespace)
        self.tests = rpc.Endpoint(b_r, a_w, rpc.TEST_OPS)
        self.thread = threading.Thread(target=self.program.serve, daemon=True)
        self.thread.start()

    def close(self):
        self.tests.done()
        self.thread.join(5)
        for fd in self.fds:
            os.close(fd)


PROGRAM = {}
exec(
    """
CONST = [1, 2]

class Stack:
    def __init__(self):
        self.items = []
    def push(self, x):
        self.items.append(x)
        return self
    def __len__(self):
        return len(self.items)
    def __getitem__(self, i):
        return self.items[i]

def sort_in_place(xs, key=None):
    xs.sort(key=key)

def apply(fn, *args):
    return fn(*args)

class Oops(KeyError):
    pass

def boom():
    raise Oops("nope")

def gen(n):
    yield from range(n)
""",
    PROGRAM,
)


@pytest.fixture
def pair():
    p = Pair(PROGRAM)
    yield p
    p.close()


def test_globals_cross_as_values_or_proxies(pair):
    names = pair.tests.names()
    assert names["CONST"] == [1, 2]
    assert isinstance(names["Stack"], rpc.Remote) and isinstance(names["boom"], rpc.Remote)


def test_objects_stay_in_the_program_and_answer_requests(pair):
    stack = pair.tests.names()["Stack"]()
    assert isinstance(stack, rpc.Remote)
    same = stack.push(3)
    assert same is stack  # the same object keeps its handle (one proxy), but == is not judged
    with pytest.raises(TypeError):
        same == stack  # noqa: B015
    stack.push(4)
    assert len(stack) == 2 and stack[1] == 4 and list(stack) == [3, 4]
    assert stack.items == [3, 4]


def test_in_place_changes_come_back_and_callbacks_run_here(pair):
    names = pair.tests.names()
    xs = [3, 1, 2]
    names["sort_in_place"](xs)
    assert xs == [1, 2, 3]
    here = []
    names["sort_in_place"](xs, key=lambda v: (here.append(v), -v)[1])
    assert xs == [3, 2, 1] and sorted(here) == [1, 2, 3]  # the key ran in this thread's endpoint
    assert names["apply"](lambda a, b: a * b, 6, 7) == 42


def test_exceptions_cross_as_their_builtin_class(pair):
    with pytest.raises(KeyError, match="nope"):
        pair.tests.names()["boom"]()
    assert list(pair.tests.names()["gen"](3)) == [0, 1, 2]


def test_the_test_side_answers_only_for_what_it_handed_over():
    """A program asking the test process for attributes, names or unknown handles gets errors."""
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    tests = rpc.Endpoint(b_r, a_w, rpc.TEST_OPS)
    secret = lambda: "SECRET"  # noqa: E731
    tests.ref(secret)  # handed over as handle 1
    for req in ({"op": "attr", "h": 1, "n": "__code__"}, {"op": "names"}, {"op": "call", "h": 99, "a": [], "k": {}}):
        tests.answer(req)
        reply = frames.read_frame(a_r)
        assert "err" in reply and "SECRET" not in str(reply)
    tests.answer({"op": "call", "h": 1, "a": [], "k": {}})
    assert frames.read_frame(a_r) == {"ok": {"v": "SECRET"}, "c": []}  # what it was given: callable
    for fd in (a_r, a_w, b_r, b_w):
        os.close(fd)


def test_a_gone_peer_is_an_error_not_a_value():
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    tests = rpc.Endpoint(b_r, a_w, rpc.TEST_OPS)
    os.close(b_w)  # nobody will ever answer
    with pytest.raises(rpc.PeerGone):
        tests.names()
    for fd in (a_r, a_w, b_r):
        os.close(fd)


class Node:  # a class the test defines (this module stands in for the snippets' __main__)
    def __init__(self, val, next=None):
        self.val = val
        self.next = next

    def equals(self, other):
        return False

    def __str__(self):
        return f"Node({self.val})"


def test_the_program_walks_and_relinks_the_tests_own_objects(monkeypatch):
    monkeypatch.setattr(Node, "__module__", "__main__")
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    tests = rpc.Endpoint(b_r, a_w, rpc.TEST_OPS)
    head = Node(1, Node(2))
    ref = tests.ref([head, head.next])  # a list of the test's objects: its items cross as handles
    assert set(ref) == {"l", "tu"} and all(set(r) == {"m", "t", "c"} for r in ref["l"])
    h = ref["l"][0]["m"]

    def ask(req):
        tests.answer(req)
        return frames.read_frame(a_r)

    assert ask({"op": "bool", "h": h}) == {"ok": {"v": True}}
    assert ask({"op": "str", "h": h}) == {"ok": {"v": "Node(1)"}}
    assert ask({"op": "attr", "h": h, "n": "val"}) == {"ok": {"v": 1}}
    assert ask({"op": "setattr", "h": h, "n": "next", "v": {"v": None}}) == {"ok": {"v": None}}
    assert head.next is None
    # Never a method the test calls (an instance attribute would shadow it), a private name,
    # or a name the instance does not hold.
    for name in ("equals", "__class__", "_secret", "other"):
        assert "err" in ask({"op": "setattr", "h": h, "n": name, "v": {"v": 1}})
    assert "equals" not in vars(head)
    lam = tests.ref(lambda: 1)["m"]
    assert ask({"op": "bool", "h": lam}) == {"ok": {"v": True}}  # `if key:` on a key function
    for req in ({"op": "str", "h": lam}, {"op": "attr", "h": lam, "n": "__code__"}):
        assert "err" in ask(req)
    for fd in (a_r, a_w, b_r, b_w):
        os.close(fd)


def test_containers_of_objects_come_back_as_the_same_objects(pair):
    names = pair.tests.names()
    here = [Node(3), Node(1)]
    kept = list(here)
    names["sort_in_place"](here, key=lambda n: n.val)  # the program sorts the test's nodes
    assert [n.val for n in here] == [1, 3] and here[0] is kept[1] and here[1] is kept[0]
