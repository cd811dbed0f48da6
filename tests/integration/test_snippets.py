"""Snippet tests the host cannot judge run in the sandbox's test process and reach the program
only through requests (executor/sandbox/tester.py, rpc.py): what still works, what cannot leak."""

from executor import Verdict

P, F, RE = Verdict.PASSED, Verdict.FAILED, Verdict.RUNTIME_ERROR

PROGRAM = """
CONST = 5

def sort_in_place(xs):
    xs.sort()

def fill(d, key):
    d[key] = len(d)

def apply(fn, x):
    return fn(x)

def twice(fn):
    return lambda x: fn(fn(x))

class Stack:
    def __init__(self):
        self.items = []
    def push(self, x):
        self.items.append(x)
    def pop(self):
        return self.items.pop()
    def __len__(self):
        return len(self.items)

class BadInput(ValueError):
    pass

def check_positive(n):
    if n < 0:
        raise BadInput("negative: %d" % n)
    return n

def gen(n):
    for i in range(n):
        yield i
"""


def verdicts(result):
    return [t.verdict for t in result.tests]


def test_program_functions_objects_and_globals(run):
    r = run(
        PROGRAM,
        [
            "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]",  # changed in place, seen here
            "d = {}\nfill(d, 'a')\nfill(d, 'b')\nassert d == {'a': 0, 'b': 1}",
            "s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2\nassert len(s) == 1",
            "x = CONST\nassert x * 2 == 10",
            "assert list(gen(3)) == [0, 1, 2]",
            "total = 0\nfor i in gen(4):\n    total += i\nassert total == 6",
        ],
    )
    assert verdicts(r) == [P] * 6, r


def test_functions_from_the_test_run_in_the_test_process(run):
    r = run(
        PROGRAM,
        [
            "assert apply(lambda x: x * 2, 21) == 42",
            "inc = lambda x: x + 1\nassert twice(inc)(5) == 7",  # the program's closure over ours
            "seen = []\napply(seen.append, 'hi')\nassert seen == ['hi']",
        ],
    )
    assert verdicts(r) == [P] * 3, r


def test_exceptions_cross_as_their_builtin_class(run):
    r = run(
        PROGRAM,
        [
            "try:\n    check_positive(-1)\nexcept ValueError as e:\n    assert 'negative' in str(e)\nelse:\n    assert False",
            "assert check_positive(-2) == 0",
        ],
    )
    assert verdicts(r) == [P, RE], r
    assert "negative: -2" in r.tests[1].message


def test_names_the_tests_define_persist_from_test_to_test(run):
    r = run(PROGRAM, ["def helper():\n    return CONST + 1\nassert helper() == 6", "assert helper() == 6"])
    assert verdicts(r) == [P, P], r


def test_wrong_programs_fail_and_a_crash_mid_test_is_an_error(run):
    wrong = PROGRAM.replace("xs.sort()", "xs.reverse()")
    r = run(wrong, ["xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]"])
    assert verdicts(r) == [F]
    dies = PROGRAM + "import os\ndef die():\n    os._exit(0)\n"
    r = run(dies, ["x = die()\nassert x is None", "y = CONST\nassert y == 5"])
    assert r.tests[0].verdict is RE and r.tests[1].verdict is not P


def test_snippet_sources_never_reach_the_program(run):
    """The program searches all its objects (strings, code constants) for a test's literal."""
    finder = """
import gc
def find(marker):
    for obj in gc.get_objects():
        try:
            if type(obj) is str and marker in obj and obj != marker:
                return "found"
            if type(obj).__name__ == "code" and any(type(c) is str and marker in c and c != marker
                                                    for c in obj.co_consts):
                return "found"
        except Exception:
            pass
    return "not found"
"""
    # The literal below sits in the snippet; the program is only ever asked about a fragment.
    test = "secret = 'XQ-' + '7731-ZZ'\nassert find('7731') == 'not found'\nassert secret == 'XQ-7731-ZZ'"
    r = run(finder, [test])
    assert verdicts(r) == [P], r


def test_the_program_cannot_kill_the_test_process(run):
    """The test process is older than the program's child: its kill attempts are refused, and
    the test is judged (here: failed on its own assert) instead of crashing."""
    killer = """
import os, signal
def kill_all():
    me = os.getpid()
    for pid in range(2, me + 200):
        if pid != me:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return 1
"""
    r = run(killer, ["x = kill_all()\nassert x == 2"])
    assert verdicts(r) == [F], r


def test_big_values_cross_both_ways(run):
    program = "def total(xs):\n    return sum(xs)\ndef make(n):\n    return list(range(n))\n"
    r = run(
        program,
        [
            "xs = list(range(1_000_000))\nassert total(xs) == 499999500000",
            "ys = make(1_000_000)\nassert len(ys) == 1_000_000 and ys[-1] == 999999",
        ],
        limits={"cpu_s": 10, "wall_s": 20, "memory_mb": 1024},
    )
    assert verdicts(r) == [P, P], r


def test_big_dicts_from_the_program_are_usable_in_the_test(run):
    program = "def counts(n):\n    return {i: i * i for i in range(n)}\n"
    r = run(program, ["d = counts(20000)\nassert d[100] == 10000 and len(d) == 20000"])
    assert verdicts(r) == [P], r


def test_program_exception_classes_can_be_caught_by_name(run):
    program = (
        "class InvalidInput(ValueError):\n    pass\nclass Negative(InvalidInput):\n    pass\n"
        "def check(n):\n    if n < 0:\n        raise Negative('negative: %d' % n)\n    return n\n"
    )
    r = run(
        program,
        [
            "try:\n    check(-1)\nexcept Negative as e:\n    assert 'negative' in str(e)\nelse:\n    assert False",
            "try:\n    check(-2)\nexcept InvalidInput:\n    pass\nelse:\n    assert False",
            "try:\n    check(-3)\nexcept ValueError:\n    pass\nelse:\n    assert False",
            "try:\n    check(-4)\nexcept KeyError:\n    pass",
        ],
    )
    assert verdicts(r) == [P, P, P, RE], r


def test_an_exception_crosses_with_its_args_and_attributes(run):
    """A test that catches the program's exception sees its args and its own attributes as the
    program made them (it saw one message string before: `e.needed` failed a right program, and
    `e.args == ('5',)` passed a wrong one). Each verdict here is CPython's."""
    program = (
        "class InsufficientFunds(Exception):\n    def __init__(self, needed):\n"
        "        super().__init__(f'need {needed}')\n        self.needed = needed\n"
        "def withdraw(b, a):\n    if a > b:\n        raise InsufficientFunds(a - b)\n    return b - a\n"
        "def fail(kind, *args):\n    raise {'value': ValueError, 'os': OSError, 'key': KeyError}[kind](*args)\n"
    )

    def caught(call, kind, check):
        return f"try:\n    {call}\n    assert False\nexcept {kind} as e:\n    assert {check}"

    tests = [
        caught("withdraw(5, 10)", "InsufficientFunds", "e.needed == 5"),
        caught("withdraw(5, 10)", "InsufficientFunds", "e.needed == 6"),  # a wrong value is seen as wrong
        caught("fail('value', 5)", "ValueError", "e.args == (5,) and e.args[0] + 1 == 6"),
        caught("fail('value', 5)", "ValueError", "e.args == ('5',)"),
        caught("fail('value', 'bad', [1, 2])", "ValueError", "e.args[1] == [1, 2] and len(e.args) == 2"),
        caught("fail('value')", "ValueError", "e.args == () and str(e) == ''"),
        caught("fail('os', 2, 'nf')", "OSError", "e.errno == 2 and e.strerror == 'nf' and str(e) == '[Errno 2] nf'"),
        caught("fail('key', 'k')", "KeyError", "str(e) == \"'k'\" and e.args == ('k',)"),
    ]
    r = run(program, tests)
    assert [t.verdict is P for t in r.tests] == [True, False, True, False, True, True, True, True], r.tests
    # HumanEval's shape: the check function calls the candidate.
    check = "def check(candidate):\n    try:\n        candidate(5, 10)\n    except Exception as e:\n"
    check += "        assert e.needed == 5 and e.args == ('need 5',)\n    else:\n        assert False\ncheck(withdraw)"
    assert verdicts(run(program, [check])) == [P]


def test_an_exception_crosses_with_its_chain_notes_and_own_str(run):
    """`raise ... from`, the exception being handled when it was raised, `add_note`, and a
    program class's own `__str__` and `__repr__` reach the test as Python shows them (they were
    lost: `e.__cause__ is None` passed, `str(e)` was built from the args). Each verdict is the
    one the sandbox's interpreter gives the program with the test appended."""
    import subprocess

    from executor import ExecutorConfig

    program = (
        "class Bad(ValueError):\n    def __init__(self, code):\n        super().__init__(f'code {code}')\n"
        "        self.code = code\n    def __str__(self):\n        return f'bad #{self.code}'\n"
        "    def __repr__(self):\n        return 'Bad!'\n"
        "def wrap():\n    try:\n        1 / 0\n    except ZeroDivisionError as z:\n"
        "        e = ValueError('wrap')\n        e.add_note('hello')\n        raise e from z\n"
        "def inner():\n    try:\n        {}['k']\n    except KeyError:\n        raise Bad(5)\n"
        "def quiet():\n    try:\n        [][1]\n    except IndexError:\n        raise Bad(6) from None\n"
    )

    def caught(call, check):
        return f"try:\n    {call}\n    assert False\nexcept Exception as e:\n    assert {check}"

    tests = [
        caught("wrap()", "e.__cause__ is None"),
        caught("wrap()", "isinstance(e.__cause__, ZeroDivisionError) and e.__suppress_context__"),
        caught("wrap()", "e.__context__ is e.__cause__ or isinstance(e.__context__, ZeroDivisionError)"),
        caught("wrap()", "e.__notes__ == ['hello']"),
        caught("wrap()", "e.__notes__ == ['bye']"),
        caught("inner()", "str(e) == 'code 5'"),
        caught("inner()", "str(e) == 'bad #5' and repr(e) == 'Bad!' and e.args == ('code 5',) and e.code == 5"),
        caught("inner()", "isinstance(e.__context__, KeyError) and e.__cause__ is None"),
        caught("inner()", "not e.__suppress_context__ and e.__context__.args == ('k',)"),
        caught("quiet()", "e.__suppress_context__ and e.__cause__ is None and isinstance(e.__context__, IndexError)"),
        caught("quiet()", "str(e) == 'bad #6' and isinstance(e, ValueError)"),
    ]
    python = ExecutorConfig().python
    native = [
        subprocess.run([python, "-I", "-c", program + "\n" + t], capture_output=True, timeout=30).returncode == 0
        for t in tests
    ]
    assert native == [False, True, True, True, False, False, True, True, True, True, True]  # the oracle itself
    r = run(program, tests)
    assert [t.verdict is P for t in r.tests] == native, r.tests


def test_exceptions_with_long_texts_of_their_own_are_not_kept_after_the_test_drops_them(run):
    """Each caught exception whose class shows a unique 512 KiB text is dropped by the test; the
    test process kept a class for each (the text twice), so a right program failed with
    `memory_exceeded` where Python holds one at a time."""
    program = (
        "class Big(Exception):\n    def __init__(self, i):\n        super().__init__(i)\n"
        "        self.text = f'{i:04d}' * (1 << 17)\n    def __str__(self):\n        return self.text\n"
        "    def __repr__(self):\n        return self.text\ndef f(i):\n    raise Big(i)\n"
    )
    test = "for i in range(100):\n    try:\n        f(i)\n    except Exception as e:\n        assert len(str(e)) == 1 << 19 and str(e)[:4] == f'{i:04d}'\n"
    result = run(program, [test], limits={"memory_mb": 128, "cpu_s": 10, "wall_s": 30})
    assert verdicts(result) == [P], result


def test_a_library_name_a_test_compares_alone_with_a_literal_is_the_programs(run):
    """`factorial(5) == 120 and fib(3) == 3` tests the program's `factorial` (it was math's: a
    wrong one passed); on the expected side (`solve(4) == sqrt(16)`) the name stays genuine.
    Each verdict is the one the sandbox's interpreter gives the program with the test appended,
    but the last (a rigged `sqrt` on the expected side, design section 9)."""
    import subprocess

    from executor import ExecutorConfig

    wrong = "def factorial(n):\n    return 0\ndef fib(n):\n    return n\n"
    right = "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)\ndef fib(n):\n    return n\n"
    tests = [
        "assert factorial(5) == 120 and fib(3) == 3",
        "assert fib(3) == 3 and 120 == factorial(5)",
        "r = [fib(i) for i in range(3)]\nassert r == [0, 1, 2] and factorial(4) == 24",
        "assert fib(5) == 5 and factorial(3) == 6 != fib(1)",
    ]
    python = ExecutorConfig().python
    for program in (wrong, right):
        native = [
            subprocess.run([python, "-I", "-c", program + "\n" + t], capture_output=True, timeout=30).returncode == 0
            for t in tests
        ]
        assert native == [program is right] * len(tests)  # the oracle itself
        assert [t.verdict is P for t in run(program, tests).tests] == native
    rigged = "def sqrt(x):\n    return 7\ndef solve(x):\n    return 7\n"
    assert verdicts(run(rigged, ["assert solve(4) == sqrt(16) and solve(1) == 7"])) == [F]
    # A name tested alone that the snippet also uses on an expected side, or a side that reads
    # a variable of the test's (named like a library function), stays genuine: the program's
    # rigged `factorial` or `fabs` would choose what its wrong `f` is compared with.
    rigged = (
        "def factorial(n):\n    return 6 if n == 3 else 7\ndef f(n):\n    return 7\n"
        "def fabs(x):\n    return 0.0\ndef average(xs):\n    return 0\n"
    )
    expected_side = [
        "assert factorial(3) == 6 and f(5) == factorial(5)",
        "def check(candidate):\n    assert factorial(3) == 6\n    assert candidate(5) == factorial(5)\ncheck(f)",
        "mean = average([1, 2, 3])\nassert fabs(mean - 2.0) < 1e-6",
    ]
    assert verdicts(run(rigged, expected_side)) == [F, F, F]
    # On the host too (a tuple of comparisons), and the genuine one where the program has none.
    host = ["assert (gcd(12, 18) == 6, f(1)) == (True, 1)"]
    assert verdicts(run("def gcd(a, b):\n    return 1\ndef f(x):\n    return x\n", host)) == [F]
    assert verdicts(run("def f(x):\n    return x\n", host)) == [P]


def test_a_match_made_by_the_tests_re_is_true(run):
    """`assert re.fullmatch(...)` asserts on a Match object the test process's own `re` made:
    it is true as in Python; a program's value that does not match still fails."""
    tests = ["assert re.fullmatch(r'\\d+', g())", "assert not re.search('x', g())"]
    assert run("def g():\n    return '123'\n", tests).pass_rate == 1.0
    assert run("def g():\n    return '12a'\n", tests).pass_rate == 0.5


def test_a_match_the_program_returns_is_true_and_equal_to_nothing(run):
    """`def is_num(s): return re.fullmatch(...)` is a right answer to `assert is_num('12')`:
    a genuine Match is true on every path; it still compares equal to nothing."""
    right = "import re\ndef is_num(s):\n    return re.fullmatch(r'\\d+', s)\n"
    tests = [
        "assert is_num('123')",
        "assert not is_num('ab')",
        "assert bool(is_num('1'))",
        "def check(c):\n    assert c('5')\n    assert not c('x')\ncheck(is_num)",
        "x = is_num('7')\nassert x",
    ]
    assert run(right, tests).pass_rate == 1.0
    wrong = "import re\ndef is_num(s):\n    return re.fullmatch(r'.*', s)\n"
    assert run(wrong, ["assert not is_num('ab')", "assert is_num('1') == True"]).pass_rate == 0.0


def test_a_generator_under_a_builtin_that_iterates_it_crosses_as_its_items(run):
    right = "def gen(n):\n    for i in range(n):\n        yield i\n"
    tests = [
        "assert ''.join(map(str, gen(3))) == '012'",
        "assert sorted(gen(3), reverse=True) == [2, 1, 0]",
        "assert list(zip(gen(2), 'ab')) == [(0, 'a'), (1, 'b')]",
        "assert dict(enumerate(gen(2))) == {0: 0, 1: 1}",
        "assert max(gen(4), default=-1) == 3",
    ]
    assert run(right, tests).pass_rate == 1.0
    wrong = "def gen(n):\n    for i in range(n):\n        yield i + 1\n"
    assert run(wrong, tests).pass_rate == 0.0


def test_a_test_may_write_the_files_it_hands_the_program(run):
    program = "def count_lines(path):\n    with open(path) as fh:\n        return len(fh.readlines())\n"
    r = run(
        program,
        [
            "with open('fixture.txt', 'w') as fh:\n    fh.write('a\\nb\\nc\\n')\nassert count_lines('fixture.txt') == 3",
            "import tempfile\nwith tempfile.NamedTemporaryFile('w', delete=False) as fh:\n    fh.write('x\\n')\n"
            "assert count_lines(fh.name) == 1",
        ],
    )
    assert verdicts(r) == [P, P], r


def test_names_the_program_imported_mean_what_they_mean_appended_to_it(run):
    # `from datetime import datetime` in the program: the test's `datetime` is the class (the
    # genuine one), as it would be with the test appended to the program.
    program = "from datetime import datetime\ndef parse(s):\n    return datetime.strptime(s, '%Y-%m-%d')\n"
    r = run(
        program,
        [
            "assert parse('2020-01-02') == datetime(2020, 1, 2)",
            "assert isinstance(parse('2020-01-02'), datetime)",
            "assert parse('2020-01-02') == datetime(2020, 1, 3)",
        ],
    )
    assert verdicts(r) == [P, P, F], r
    import importlib.util

    if importlib.util.find_spec("numpy") is not None:  # the package the program imported as np
        program = "import numpy as np\ndef halves(n):\n    return np.arange(n) / 2\n"
        r = run(program, ["assert np.allclose(halves(3), [0.0, 0.5, 1.0])", "assert np.allclose(halves(3), [0, 1, 2])"])
        assert verdicts(r) == [P, F], r


LIST_NODE = (
    "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n"
)
LIST_HELPERS = (
    LIST_NODE
    + "def build(xs):\n    head = None\n    for x in reversed(xs):\n        head = ListNode(x, head)\n    return head\n"
    + "def to_list(h):\n    out = []\n    while h:\n        out.append(h.val)\n        h = h.next\n    return out\n"
)
MERGE_K = (
    LIST_NODE
    + "import heapq\nclass Solution:\n    def mergeKLists(self, lists):\n        h = []\n"
    + "        for i, l in enumerate(lists):\n            if l:\n                heapq.heappush(h, (l.val, i, l))\n"
    + "        dummy = cur = ListNode(0)\n        while h:\n            v, i, n = heapq.heappop(h)\n"
    + "            cur.next = n\n            cur = n\n            if n.next:\n"
    + "                heapq.heappush(h, (n.next.val, i, n.next))\n        return dummy.next\n"
)


def test_leetcode_objects_the_test_defines_are_walked_and_relinked_by_the_program(run):
    # LeetCode-style suites define ListNode and its helpers in the test (and often in the
    # prompt the program starts from too): the program tests their truth, reads, relinks them.
    merge = "assert to_list(Solution().mergeKLists([build([1, 4, 5]), build([1, 3, 4]), build([2, 6])])) == [1, 1, 2, 3, 4, 4, 5, 6]"
    cases = [
        (
            "def length(head):\n    n = 0\n    while head:\n        n += 1\n        head = head.next\n    return n\n",
            LIST_NODE + "assert length(ListNode(1, ListNode(2))) == 2",
        ),
        (
            "def total(items):\n    return sum(i.price for i in items)\n",
            "class Item:\n    def __init__(self, p):\n        self.price = p\nassert total([Item(2), Item(3)]) == 5",
        ),
        (
            "def show(o):\n    return str(o)\n",
            "class P:\n    def __str__(self):\n        return 'P!'\nassert show(P()) == 'P!'",
        ),
        (
            "def sort_by(xs, key=None):\n    return sorted(xs, key=key) if key else sorted(xs)\n",
            "assert sort_by([3, 1, 2], key=lambda x: -x) == [3, 2, 1]",
        ),
        (
            "def sort_nodes(ns):\n    ns.sort(key=lambda n: n.val)\n",
            LIST_NODE + "ns = [ListNode(3), ListNode(1)]\nsort_nodes(ns)\nassert [n.val for n in ns] == [1, 3]",
        ),
        (MERGE_K, LIST_HELPERS + merge),
        (
            "class Node:\n    def __init__(self, v):\n        self.v = v\n        self.children = []\n"
            "def build_tree():\n    r = Node(1)\n    r.children.append(Node(2))\n    return r\n",
            "r = build_tree()\nassert r.children[0].v == 2",
        ),
    ]
    for program, test in cases:
        assert verdicts(run(program, [test])) == [P], (program, test)
    wrong = MERGE_K.replace("cur.next = n\n", "cur.next = ListNode(v + 1)\n")
    assert verdicts(run(wrong, [LIST_HELPERS + merge])) != [P]


def test_collections_changed_in_place_come_back_changed(run):
    cases = [
        (
            "def rot(dq, k):\n    dq.rotate(k)\n",
            "from collections import deque\ndq = deque([1, 2, 3])\nrot(dq, 1)\nassert dq == deque([3, 1, 2])",
        ),
        (
            "def touch(od, k):\n    od.move_to_end(k)\n",
            "from collections import OrderedDict\nod = OrderedDict(a=1, b=2)\ntouch(od, 'a')\nassert list(od) == ['b', 'a']",
        ),
        (
            "def add(c, x):\n    c[x] += 1\n",
            "from collections import Counter\nc = Counter(a=2)\nadd(c, 'a')\nassert c == Counter({'a': 3})",
        ),
        (
            "def put(d, k):\n    d[k].append(1)\n",
            "from collections import defaultdict\nd = defaultdict(list)\nput(d, 'x')\nassert d == {'x': [1]} and d['y'] == []",
        ),
    ]
    for program, test in cases:
        assert verdicts(run(program, [test])) == [P], (program, test)


def test_a_tests_seed_seeds_the_programs_random_too(run):
    # Appended to the program, the test shares its `random`: seeding it fixes what the program
    # draws. The test's `random` stays this process's own; its seed() seeds both.
    program = "import random\ndef roll():\n    return random.randint(1, 100)\n"
    import random

    random.seed(42)
    want = random.randint(1, 100)
    tests = [
        f"import random\nrandom.seed(42)\nassert roll() == {want}",
        f"random.seed(42)\nassert roll() == {want}",
        f"def check(candidate):\n    random.seed(42)\n    assert candidate() == {want}\ncheck(roll)",
        f"random.seed(42)\nx = random.randint(1, 100)\nrandom.seed(42)\nassert roll() == x == {want}",
    ]
    assert verdicts(run(program, tests)) == [P] * 4
    assert verdicts(run("import random\ndef roll():\n    return random.randint(1, 100) + 1\n", tests[:1])) == [F]


def test_program_globals_read_after_a_call_are_their_new_values(run):
    program = "cnt = 0\nlog = []\ndef inc():\n    global cnt\n    cnt += 1\n    log.append(cnt)\n"
    tests = [
        "inc()\ninc()\nassert cnt == 2 and log == [1, 2]",
        "assert cnt == 2\ninc()\nassert cnt == 3",  # from test to test too
        "cnt = 10\ninc()\nassert cnt == 10",  # a name the test rebinds stays the test's
    ]
    assert verdicts(run(program, tests)) == [P, P, P]
    assert verdicts(run(program.replace("cnt += 1", "cnt += 2"), tests[:1])) == [F]


def test_dict_views_and_ranges_a_program_returns_are_judged(run):
    program = "def keys(d):\n    return d.keys()\ndef upto(n):\n    return range(n)\n"
    tests = [
        "assert keys({'a': 1, 'b': 2}) == {'a', 'b'}",
        "assert 'a' in keys({'a': 1})",
        "assert upto(3) == range(3)",
    ]
    assert verdicts(run(program, tests)) == [P, P, P]
    assert verdicts(run(program, ["assert keys({'a': 1}) == {'b'}", "assert upto(3) == range(4)"])) == [F, F]


def test_objects_of_the_tests_classes_compare_by_the_tests_own_eq(run):
    node = (
        "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n"
        "    def __eq__(self, other):\n        return isinstance(other, ListNode) and self.val == other.val and self.next == other.next\n"
        "def build(xs):\n    h = None\n    for x in reversed(xs):\n        h = ListNode(x, h)\n    return h\n"
    )
    reverse = "def reverse(h):\n    p = None\n    while h:\n        h.next, p, h = p, h, h.next\n    return p\n"
    test = node + "assert reverse(build([1, 2, 3])) == build([3, 2, 1])"
    assert verdicts(run(reverse, [test])) == [P]
    assert verdicts(run("def reverse(h):\n    return h\n", [test])) == [F]
    dataclass = "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\nassert mk(P(1)) == P(1)"
    assert verdicts(run("def mk(a):\n    return a\n", [dataclass])) == [P]


def test_a_seed_reaches_a_program_that_imported_only_what_it_draws_with(run):
    import random

    random.seed(42)
    want = random.randint(1, 100)
    test = f"import random\nrandom.seed(42)\nassert f() == {want}"
    for program in (
        "from random import randint\ndef f():\n    return randint(1, 100)\n",
        "import random as rnd\ndef f():\n    return rnd.randint(1, 100)\n",
    ):
        assert verdicts(run(program, [test])) == [P], program


def test_a_test_class_cannot_subclass_a_program_class_and_says_why(run):
    # The program's class lives in its process: a test's subclass would be a broken object.
    animal = "class Animal:\n    def __init__(self, name):\n        self.name = name\n    def speak(self):\n        return '...'\n"
    r = run(animal, ["class Cat(Animal):\n    pass\nassert Cat('Tom').speak() == '...'"])
    assert verdicts(r) == [RE] and "cannot be subclassed" in r.tests[0].message, r


def test_a_test_that_captures_stdout_sees_what_the_program_prints(run):
    # redirect_stdout, a patched sys.stdout: the program prints in its own process, and what a
    # call printed comes back to be written where the test's stdout points now.
    program = (
        "def pattern(n):\n    for i in range(1, n + 1):\n        print('*' * i)\n"
        "def greet(name):\n    print(f'Hello, {name}!')\n    return 1\n"
        "def boom():\n    print('before')\n    raise ValueError('x')\n"
    )
    tests = [
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    pattern(3)\n"
        "assert buf.getvalue() == '*\\n**\\n***\\n'",
        "import io, sys\nold = sys.stdout\nsys.stdout = io.StringIO()\ngreet('Bob')\nout = sys.stdout.getvalue()\n"
        "sys.stdout = old\nassert out == 'Hello, Bob!\\n'",
        "from unittest.mock import patch\nimport io\nwith patch('sys.stdout', new_callable=io.StringIO) as fake:\n"
        "    greet('Z')\nassert fake.getvalue() == 'Hello, Z!\\n'",
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    try:\n        boom()\n"
        "    except ValueError:\n        pass\nassert buf.getvalue() == 'before\\n'",
        "import io, contextlib\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    pattern(2)\n"
        "assert buf.getvalue() == '*\\n'",
    ]
    assert verdicts(run(program, tests)) == [P, P, P, P, F]


def test_a_program_global_the_test_changes_in_place_changes_for_the_program(run):
    program = (
        "CONFIG = {'scale': 1}\ndef scaled(x):\n    return x * CONFIG['scale']\n"
        "memo = {0: 0, 1: 1}\ndef fib(n):\n    if n not in memo:\n        memo[n] = fib(n - 1) + fib(n - 2)\n"
        "    return memo[n]\nitems = []\ndef count():\n    return len(items)\n"
    )
    tests = [
        "CONFIG['scale'] = 3\nassert scaled(2) == 6",
        "CONFIG.update(scale=5)\nassert scaled(2) == 10",  # the next test sees the program's state
        "memo[5] = 100\nassert fib(5) == 100",
        "items.append(1)\nitems.append(2)\nassert count() == 2",
        "before = scaled(1)\nCONFIG['scale'] = 9\nassert before == 5 and scaled(1) == 9",
    ]
    assert verdicts(run(program, tests)) == [P] * 5


def test_a_test_that_patches_input_answers_the_programs_input(run):
    program = (
        "def ask():\n    return input().strip()[::-1]\n"
        "def add():\n    a = int(input('a? '))\n    b = int(input('b? '))\n    return a + b\n"
    )
    tests = [
        "from unittest.mock import patch\nwith patch('builtins.input', return_value='abc'):\n    assert ask() == 'cba'",
        "from unittest.mock import patch\nwith patch('builtins.input', side_effect=['2', '3']):\n    assert add() == 5",
        "import builtins\nold = builtins.input\nbuiltins.input = lambda *a: 'xy'\ntry:\n    assert ask() == 'yx'\n"
        "finally:\n    builtins.input = old",
        "from unittest.mock import patch\nwith patch('builtins.input', return_value='abc'):\n    assert ask() == 'abc'",
    ]
    assert verdicts(run(program, tests)) == [P, P, P, F]


def test_a_numpy_array_the_test_builds_is_an_array_for_the_program(run):
    program = (
        "def total(a):\n    return int(a.sum())\ndef doubled(a):\n    return (a * 2).tolist()\n"
        "def shape(a):\n    return list(a.shape)\n"
    )
    tests = [
        "import numpy as np\narr = np.array([1, 2, 3])\nassert total(arr) == 6",
        "import numpy as np\nassert doubled(np.array([1.5, 2.0])) == [3.0, 4.0]",
        "import numpy as np\nassert shape(np.zeros((2, 3))) == [2, 3]",
        "import numpy as np\nassert total(np.array([1, 2])) == 4",
    ]
    assert verdicts(run(program, tests)) == [P, P, P, F]


ASYNC = "import asyncio\nasync def double(x):\n    await asyncio.sleep(0)\n    return x * 2\n"


def test_a_programs_coroutines_are_awaited_in_its_process(run):
    tests = [
        "assert asyncio.run(double(3)) == 6",
        "result = asyncio.run(double(4))\nassert result == 8",
        "loop = asyncio.new_event_loop()\nassert loop.run_until_complete(double(5)) == 10\nloop.close()",
        "async def t():\n    assert await double(6) == 12\n    assert await asyncio.gather(double(1), double(2)) == [2, 4]\n"
        "asyncio.run(t())",
        "def check(candidate):\n    assert asyncio.run(candidate(7)) == 14\ncheck(double)",
    ]
    result = run(ASYNC, ["import asyncio\n" + t for t in tests])
    assert result.verdict is Verdict.PASSED, result
    assert run(ASYNC.replace("x * 2", "x * 3"), tests).pass_rate == 0.0


UNITTEST = "import unittest\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n"


def test_unittest_main_runs_the_tests_classes_as_a_script_would(run):
    # The snippets' globals are the module __main__, where unittest.main() looks for its
    # tests; its exit ends the test as a script's exit does: 0 passes, 1 fails.
    tests = [
        UNITTEST + "unittest.main()",
        UNITTEST + "if __name__ == '__main__':\n    unittest.main()",
        UNITTEST + "r = unittest.main(exit=False).result\nassert r.wasSuccessful() and r.testsRun == 1",
        "import __main__\nassert __main__.add(2, 2) == 4",
    ]
    assert verdicts(run("def add(a, b):\n    return a + b\n", tests)) == [P, P, P, P]
    wrong = verdicts(run("def add(a, b):\n    return a - b\n", tests[:3]))
    assert wrong == [F, F, F]
    # A program's `load_tests` (or setUpModule) is not unittest's hook for the test's module: a
    # wrong program cannot make unittest.main() run no test and exit 0.
    hook = "def load_tests(*a):\n    return load_tests\ndef add(a, b):\n    return a - b\n"
    assert verdicts(run(hook, tests[:1])) == [F]
    # The program's own sys.exit inside a test's call is never the test ending well.
    exits = run("import sys\ndef add(a, b):\n    sys.exit(0)\n", tests[:3] + ["add(1, 2)\nassert True"])
    assert exits.passed == 0, exits


def test_an_argument_the_program_left_as_it_was_keeps_the_tests_own_items(run):
    # Only a change is copied back: the test's inner lists stay its own objects.
    tests = [
        "inner = [1]\nm = [inner, [2]]\ng(m)\nassert m[0] is inner",
        "inner = [1]\nm = [inner, [2]]\ng(m)\ninner.append(5)\nassert m[0] == [1, 5]",
        "m = {'b': 1, 'a': 2}\nh(m)\nassert list(m) == ['a', 'b']",
    ]
    program = "def g(m):\n    return 0\ndef h(d):\n    d['b'] = d.pop('b')\n"
    assert verdicts(run(program, tests)) == [P, P, P]
    # A change to equal values of other types is a change (1 is not 1.0): copied back.
    floats = "def to_float(a):\n    for i in range(len(a)):\n        a[i] = float(a[i])\n"
    assert verdicts(run(floats, ["a = [1, 2]\nto_float(a)\nassert all(type(x) is float for x in a)"])) == [P]
    assert verdicts(run(floats, ["a = [1, 2]\nto_float(a)\nassert all(type(x) is int for x in a)"])) == [F]


def test_chained_comparisons_and_any_all_stop_where_python_stops(run):
    # `5 < f() < crash()` never calls crash(); `any(map(f, ...))` stops at the first true f(x):
    # computing every probe up front failed right programs (and a call's side effect changed
    # the next test).
    program = (
        "n = 0\ndef f():\n    global n\n    n += 1\n    return n\ndef crash():\n    raise ValueError\n"
        "def g(x):\n    if x == 2:\n        raise ValueError\n    return x == 1\n"
    )
    tests = [
        "assert not (5 < f() < crash())",
        "assert f() == 2",
        "assert any(map(g, [1, 2]))",
        "assert not all(map(g, [0, 2]))",
        "assert 0 <= f() < 5",
    ]
    assert verdicts(run(program, tests)) == [P, P, P, P, P]
    assert verdicts(run(program, ["assert 5 < f() < crash()", "assert all(map(g, [1, 2]))"])) == [F, RE]
    # In a comprehension in a class body a link's name cannot bind: evaluated at once there.
    in_class = "class T:\n    xs = [1, 2]\n    assert all(0 < x < f() + 5 for x in xs)"
    assert verdicts(run(program, [in_class])) == [P]


ALIASED = """
class History:
    def __init__(self):
        self._h = []
    def add(self, x):
        self._h.append(x)
    def snapshot(self):
        return self._h
    def size(self):
        return len(self._h)
    def mine(self, x):
        return x is self._h

_buf = []
def digits(n):
    _buf.clear()
    _buf.extend(int(c) for c in str(n))
    return _buf

def fresh(n):
    return [n]
"""


def test_a_list_the_program_still_holds_stays_one_list_on_both_sides(run):
    # A value the program keeps after returning it (a getter's own list, a buffer it reuses) is
    # kept in step with the test's copy both ways, as one object is in one process: wrong
    # programs whose bug is that sharing fail, right ones that rely on it pass.
    cases = [
        ("h = History()\nh.add(1)\ns = h.snapshot()\nh.add(2)\nassert s == [1]", F),
        ("h = History()\nh.add(1)\ns = h.snapshot()\nh.add(2)\nassert s == [1, 2]", P),
        ("a = digits(12)\nb = digits(345)\nassert a == [1, 2]", F),
        ("a = digits(12)\nb = digits(345)\nassert a == [3, 4, 5] and b == [3, 4, 5]", P),
        ("h = History()\ns = h.snapshot()\ns.append(7)\nassert h.size() == 1", P),
        ("h = History()\ns = h.snapshot()\ns.append(7)\nassert h.size() == 0", F),
        (
            "h = History()\nh.add(1)\nassert h.snapshot() is not None\nt = h.snapshot()\nt.clear()\nassert h.size() == 0",
            P,
        ),
        ("def check(c):\n    a = c(12)\n    b = c(345)\n    assert a == [1, 2]\ncheck(digits)", F),
        # A fresh list the program no longer holds is the test's alone.
        ("a = fresh(1)\nb = fresh(2)\na.append(5)\nassert a == [1, 5] and b == [2]", P),
        # A mirror handed back is the program's own list.
        ("h = History()\nh.add(1)\ns = h.snapshot()\nassert h.mine(s) and not h.mine([1])", P),
        # Each list its own mirror, however many come and go (ids are never reused).
        (
            "a, b = History(), History()\na.add(1)\nx = a.snapshot()\nb.add(5)\ny = b.snapshot()\n"
            "del x\nfor i in range(3):\n    c = History()\n    c.add(i)\n    z = c.snapshot()\n"
            "a.add(2)\nassert y == [5] and a.snapshot() == [1, 2]",
            P,
        ),
    ]
    for test, want in cases:
        assert verdicts(run(ALIASED, [test])) == [want], test


def test_a_mirrored_list_that_grows_past_its_room_is_left_as_a_copy(run):
    # Kept in step only up to MIRROR_NODES (each is encoded again at every frame): a program
    # list that outgrows it stays as the test last saw it; once small again, it is kept anew.
    program = ALIASED + "def grow(n):\n    _buf.extend(range(n))\n"
    test = "a = digits(12)\ngrow(40000)\nassert a == [1, 2]\nb = digits(7)\ngrow(1)\nassert b == [7, 0]"
    assert verdicts(run(program, [test])) == [P]


def test_the_interpreter_settings_a_test_changes_are_the_programs_too(run):
    # One interpreter in CPython: a test's sys.setrecursionlimit or set_int_max_str_digits
    # holds for the program it calls, and for the tests after it.
    program = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\ndef big(n):\n    return str(10 ** n)\n"
    tests = [
        "assert depth(5000) == 5000",
        "import sys\nsys.setrecursionlimit(20000)\nassert depth(5000) == 5000",
        "def check(c):\n    import sys\n    sys.set_int_max_str_digits(0)\n    assert len(c(5000)) == 5001\ncheck(big)",
        "assert depth(5000) == 5000",
    ]
    assert verdicts(run(program, tests)) == [RE, P, P, P]


def test_a_program_objects_own_text_through_format_and_percent(run):
    # '%s' % m, '{}'.format(m), format(m, spec), map(str, ms): the object's own __str__,
    # __repr__ and __format__, asked of the program's process (judged on the host, the object
    # would be opaque). A wrong text fails.
    program = (
        "class Money:\n"
        "    def __init__(self, c): self.c = c\n"
        "    def __str__(self): return '$%d.%02d' % divmod(self.c, 100)\n"
        "    def __repr__(self): return 'Money(%d)' % self.c\n"
        "    def __format__(self, spec): return format(str(self), spec)\n"
        "def mk(c): return Money(c)\n"
        "def mks(): return [Money(1), Money(250)]\n"
    )
    tests = [
        "assert '%s' % mk(100) == '$1.00'",
        "assert '%r' % mk(100) == 'Money(100)'",
        "assert '{}'.format(mk(100)) == '$1.00'",
        "assert '{!r}'.format(mk(100)) == 'Money(100)'",
        "assert format(mk(100), '>7') == '  $1.00'",
        "assert f'{mk(5):<6}|' == '$0.05 |'",
        "assert ', '.join(map(str, mks())) == '$0.01, $2.50'",
        "assert list(map(repr, mks())) == ['Money(1)', 'Money(250)']",
        "assert '%s' % mk(100) == '$2.00'",
        "assert '{}'.format(mk(100)) == '100'",
    ]
    assert verdicts(run(program, tests)) == [P] * 8 + [F, F]


def test_a_container_shared_inside_one_value_stays_shared(run):
    # `[[0] * c] * r`, the classic shared-row bug: the test that changes one row sees the
    # others change too, as in CPython, whichever side made the value.
    program = (
        "def grid(r, c):\n    return [[0] * c] * r\n"
        "def good(r, c):\n    return [[0] * c for _ in range(r)]\n"
        "def first_row_total(g):\n    g[0][0] += 1\n    return sum(g[1])\n"
    )
    tests = [
        "g = grid(2, 3)\ng[0][1] = 5\nassert g == [[0, 5, 0], [0, 0, 0]]",
        "g = good(2, 3)\ng[0][1] = 5\nassert g == [[0, 5, 0], [0, 0, 0]]",
        "def check(c):\n    g = c(2, 2)\n    g[0][0] = 1\n    assert g[1][0] == 0\ncheck(grid)",
        "row = [0, 0]\nassert first_row_total([row, row]) == 1 and row == [1, 0]",
    ]
    assert verdicts(run(program, tests)) == [F, P, F, P]


def test_the_last_change_a_snippet_makes_to_a_mirror_reaches_the_program(run):
    # Sent with the snippet's last frame: the next test, judged on the host, sees it.
    program = ALIASED + "H = History()\ndef count():\n    return H.size()\n"
    assert verdicts(run(program, ["s = H.snapshot()\ns.append(1)", "assert count() == 1"])) == [P, P]


def test_program_tables_and_held_lists_cost_the_calls_little(run):
    # A global table, a memo, and many lists the program holds and the test keeps: each frame
    # compares the mirrors by identity (globals are none), so thousands of calls stay cheap.
    program = (
        "TABLE = list(range(10000))\nmemo = {}\n"
        "def look(i):\n    return TABLE[i]\n"
        "def fib(n):\n    if n not in memo:\n        memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)\n    return memo[n]\n"
        "class Graph:\n    def __init__(self, n):\n        self.adj = [[] for _ in range(n)]\n"
        "    def add(self, u, v):\n        self.adj[u].append(v)\n    def nb(self, u):\n        return self.adj[u]\n"
    )
    tests = [
        "def check(c):\n    for i in range(3000):\n        assert c(i % 10000) == i % 10000\ncheck(look)",
        "def check(c):\n    for i in range(1, 600):\n        assert c(i) > 0\ncheck(fib)",
        "g = Graph(500)\nfor u in range(499):\n    g.add(u, u + 1)\nnb = [g.nb(u) for u in range(500)]\n"
        "for u in range(499):\n    assert nb[u] == [u + 1]",
    ]
    assert verdicts(run(program, tests)) == [P, P, P]


def test_the_programs_own_interpreter_settings_stay_its_own(run):
    # Only the setting a side changes crosses: the program's own recursion limit survives the
    # test's digits limit, and the test reads the program's limit as one interpreter would.
    program = "import sys\nsys.setrecursionlimit(100000)\ndef depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
    tests = [
        "import sys\nsys.set_int_max_str_digits(0)\nassert depth(5000) == 5000",
        "import sys\nsys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))\nassert depth(5000) == 5000",
    ]
    assert verdicts(run(program, tests)) == [P, P]


def test_sharing_reached_through_a_new_container_and_rows_rebound(run):
    # A shallow copy's rows are the program's (a "must return a copy" test fails it, as in
    # CPython); a row inside a tuple or a list subclass is kept in step too; a callee that
    # rebinds rows leaves the caller's old row objects alone.
    program = (
        "class Board:\n    def __init__(self):\n        self.cells = [[0, 0], [0, 0]]\n"
        "    def shallow(self):\n        return list(self.cells)\n"
        "    def deep(self):\n        return [list(r) for r in self.cells]\n"
        "    def place(self, r, c, v):\n        self.cells[r][c] = v\n"
        "    def cell(self, r, c):\n        return self.cells[r][c]\n"
        "class Row(list):\n    pass\n"
        "class Pairs:\n    def __init__(self):\n        self.p = [('a', [])]\n        self.rows = [Row([0])]\n"
        "    def put(self, x):\n        self.p[0][1].append(x)\n        self.rows[0].append(x)\n"
        "    def view(self):\n        return self.p\n    def rows_view(self):\n        return self.rows\n"
        "def fill(grid):\n    for i in range(len(grid)):\n        grid[i] = [i] * len(grid[i])\n"
        "def sort_rows(rows):\n    for i in range(len(rows)):\n        rows[i] = sorted(rows[i])\n"
    )
    tests = [
        "b = Board()\nbefore = b.shallow()\nb.place(0, 0, 1)\nassert before[0][0] == 0",
        "b = Board()\nbefore = b.deep()\nb.place(0, 0, 1)\nassert before[0][0] == 0",
        "b = Board()\nv = b.shallow()\nv[1][1] = 7\nassert b.cell(1, 1) == 7",
        "p = Pairs()\nv = p.view()\nr = p.rows_view()\np.put(5)\nassert v[0][1] == [5] and r[0] == [0, 5]",
        "g = [[0] * 3] * 3\nfill(g)\nassert g == [[0, 0, 0], [1, 1, 1], [2, 2, 2]]",
        "x = [3, 1]\nrows = [x]\nsort_rows(rows)\nassert rows == [[1, 3]] and x == [3, 1]",
    ]
    assert verdicts(run(program, tests)) == [F, P, P, P, P, P]


def test_more_shapes_that_format_a_program_object(run):
    program = (
        "class Node:\n    def __init__(self, v): self.v = v\n"
        "    def __str__(self): return 'N%d' % self.v\n    def __repr__(self): return 'Node(%d)' % self.v\n"
        "    def __index__(self): return self.v\n    def __float__(self): return float(self.v)\n"
        "def nodes(): return [Node(1), Node(2)]\ndef one(): return Node(3)\n"
        "def groups(): return [[1], [2, 3]]\n"
    )
    tests = [
        "assert str(nodes()[0]) == 'N1'",
        "assert repr(nodes()[-1]) == 'Node(2)'",
        "assert str(list(nodes())) == '[Node(1), Node(2)]'",
        "assert '%s and %s' % tuple(nodes()) == 'N1 and N2'",
        "assert '%(a)s' % {'a': one()} == 'N3'",
        "assert '%d' % one() == '3'",
        "assert '%.1f' % one() == '3.0'",
        "assert sum(groups(), []) == [1, 2, 3]",
        "assert str(nodes()[0]) == 'N2'",
    ]
    assert verdicts(run(program, tests)) == [P] * 8 + [F]


def test_tuples_and_handed_back_mirrors_keep_their_sharing(run):
    program = (
        "from collections import namedtuple\nPoint = namedtuple('Point', 'x y')\n"
        "def origin():\n    return Point(0, 0)\n"
        "class Board:\n    def __init__(self):\n        self.rows = [[0, 0], [0, 0]]\n"
        "        self.entries = [('a', [])]\n        self.by_id = {}\n"
        "    def state(self):\n        return self.rows, len(self.rows)\n"
        "    def snapshot(self):\n        return tuple(self.rows)\n"
        "    def entries_copy(self):\n        return list(self.entries)\n"
        "    def tag(self, x):\n        self.entries[0][1].append(x)\n"
        "    def place(self, r, c, v):\n        self.rows[r][c] = v\n"
        "    def size(self):\n        return len(self.rows)\n"
        "    def get_rows(self):\n        return self.rows\n"
        "    def add(self, rows):\n        row = [len(rows)]\n        self.by_id[len(rows)] = row\n        rows.append(row)\n"
        "    def grow(self, k):\n        self.by_id[k].append(1)\n"
        "    def total(self):\n        return sum(len(r) for r in self.rows)\n"
        "def sort_in_place(a):\n    a.sort()\n"
    )
    tests = [
        "b = Board()\ns, n = b.state()\nb.place(1, 1, 7)\nassert s[1][1] == 7",
        "b = Board()\ns, n = b.state()\ns.append([9])\nassert b.size() == 3",
        "b = Board()\nt = b.snapshot()\nb.place(0, 0, 1)\nassert t[0][0] == 0",  # CPython fails it
        "b = Board()\ne = b.entries_copy()\nb.tag(5)\nassert e[0][1] == []",  # CPython fails it
        "b = Board()\ns = b.get_rows()\nb.add(s)\nb.grow(2)\nassert b.total() == 6 and s[2] == [2, 1]",
        "a = list(range(200000, 0, -1))\nsort_in_place(a)\nassert a[0] == 1 and a[-1] == 200000",
        "p = origin()\nassert p.x == 0 and p.y == 0",
    ]
    assert verdicts(run(program, tests)) == [P, P, F, F, P, P, P]


def test_class_design_shapes_through_the_test_process(run):
    # Changes made through a value the test lets go at once, an iterator the test hands the
    # program (LeetCode's PeekingIterator), a namedtuple's own repr and _replace, and many
    # calls while the test holds values the program keeps.
    program = (
        "from collections import namedtuple\nPair = namedtuple('Pair', 'first second')\n"
        "def pair():\n    return Pair(1, 4)\n"
        "class Student:\n    def __init__(self):\n        self.grades = []\n"
        "    def get_grades(self):\n        return self.grades\n"
        "    def average(self):\n        return sum(self.grades) / len(self.grades)\n"
        "class PeekingIterator:\n    def __init__(self, it):\n        self.it = it\n        self.nxt = next(it, None)\n"
        "    def peek(self):\n        return self.nxt\n"
        "    def next(self):\n        v = self.nxt\n        self.nxt = next(self.it, None)\n        return v\n"
        "    def hasNext(self):\n        return self.nxt is not None\n"
        "class Table:\n    def __init__(self):\n        self.rows = [[i] for i in range(300)]\n"
        "    def row(self, i):\n        return self.rows[i]\n    def ping(self, i):\n        return i\n"
    )
    tests = [
        "s = Student()\ns.grades.append(100)\ns.get_grades().append(50)\nassert s.average() == 75",
        "p = PeekingIterator(iter([1, 2, 3]))\nassert p.peek() == 1 and p.next() == 1 and p.next() == 2\n"
        "assert p.hasNext() and p.next() == 3 and not p.hasNext()",
        "r = pair()\nassert str(r) == 'Pair(first=1, second=4)' and r._replace(second=9) == (1, 9)\n"
        "assert r._asdict() == {'first': 1, 'second': 4}",
        "t = Table()\nrows = [t.row(i) for i in range(250)]\nfor k in range(3000):\n    assert t.ping(k) == k",
    ]
    assert verdicts(run(program, tests)) == [P, P, P, P]
