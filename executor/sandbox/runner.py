"""What a child does after fork: run one program, then its tests, in one process.

Everything here runs next to untrusted code, so nothing here is trusted with a
verdict. It reports raw facts (a value, an exception, "ran to the end") on the
result pipe, each frame tagged with a nonce the zygote sent just before that
phase; the zygote and the host decide what they mean. Standard library only.

The builtins and library functions the runner calls once a program has run
are bound to private module-level names when this module is imported (in the
zygote, before any program exists): a name lookup here finds that binding
before it looks at `builtins`, so a program that patches `builtins` (or `os`,
`json`...) later does not change what the runner calls.

None of this hides anything from the program: it runs in this process, can
walk its frames to this module's globals and rewrite any of them (cells of a
closure would be no safer: they are writable too). That is why nothing here is
trusted with a verdict: the host judges the values the runner reports, a
frame counts only with the nonce of its phase, and snippet tests (whose
frames are verdicts) and the strict helper run in the test process
(tester.py), where no program code runs. The sandbox's modules are also
dropped from `sys.modules` in the fork server, so a program cannot import
them by name.
"""

import ast
import builtins
import gc
import operator
import os
import sys
import time
import warnings

from . import codec, expected, frames, rpc, trusted
from .statuses import ERROR, FAIL, MEMORY, OK, PART, SYNTAX


class Quitter:
    """`exit` and `quit`, as `site` makes them for `python3 prog.py` (the sandbox's interpreter
    runs without `site`): `print(ans); exit()` is how many contest programs end."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Use %s() or Ctrl-D (i.e. EOF) to exit" % self.name

    def __call__(self, code=None):
        raise SystemExit(code)


for _name in ("exit", "quit"):
    if not hasattr(builtins, _name):
        setattr(builtins, _name, Quitter(_name))

NONCE_LEN = 32  # hex characters, then "\n"
# In place of a nonce: "this phase is a snippet the test process runs; serve its requests".
SERVE_TOKEN = b"s" * NONCE_LEN + b"\n"
RPC_IN, RPC_OUT = 5, 6  # the program's child: requests from, replies to the test process
LOG_FD = 7  # the program's child: its values log (zygote._values_log)
LOG_VALUE_MAX = 1 << 16  # a value's JSON past this is not logged (it would be written twice)
MESSAGE_MAX = 600
# A slow value phase sends the values it has at most this often, so the host can stop a
# phase whose earlier asserts already failed (a fast phase sends one frame at its end).
PART_EVERY_S = 0.002
PROGRAM_MODULE = "solution"  # the program's __name__ under assert and call tests
SCRIPT_FILE = "solution.py"  # a script's __file__ and sys.argv[0] (stdio mode, raw runs)
MEMORY_EXIT = 86  # stdio mode: MemoryError escaped the program
# The interpreter's status when flushing sys.stdout or sys.stderr fails at its exit (fd 1 closed,
# a full disk), whatever the program's own status was (Py_RunMain, Py_Exit).
FLUSH_FAILED_EXIT = 120
SYNTAX_EXIT = 87  # stdio mode: the program does not compile


# Bound at import, before any program runs (see the module's docstring).
_type = type
_os_exit, _os_write = os._exit, os.write
_write_frame, _write_raw, _read_exact = frames.write_frame, frames.write_raw, frames.read_exact
_dumps, _pwrite = frames.dumps, os.pwrite
_OK = OK.encode("ascii")
_Endpoint, _ALL_OPS = rpc.Endpoint, rpc.ALL_OPS
_copies, _id = rpc.COPIES, id
_singletons = rpc.Singletons((None, True, False, Ellipsis, NotImplemented))
_encode, _decode = codec.encode, codec.decode
_MAX_NODES = codec.MAX_ENCODED_NODES
_module_type = type(sys)
_int_index, _str = int.__index__, str
_VALUE_NODES = rpc.VALUE_NODES
_test_instance = rpc.test_instance
_Remote = rpc.Remote
_CLASS_TYPES = rpc.CLASS_TYPES
_set_used = rpc.Remote._used.__set__
_any, _map = any, map
_Opaque, _OpaqueCompared, _TruthyOpaque = codec.Opaque, codec.OpaqueCompared, codec.TruthyOpaque
_make, _involves, _forget = expected.make, expected.involves, expected.forget
_sides, _Unordered = expected.sides, expected.Unordered
_CallMismatch = codec.CallMismatch
_BaseException = BaseException
_AssertionError = AssertionError
_MemoryError = MemoryError
_RecursionError = RecursionError
_SyntaxError = SyntaxError
_SystemExit = SystemExit
_NameError = NameError
_SYNTAX_ERRORS = (SyntaxError, IndentationError, TabError)
_exc_str = BaseException.__str__
_qualname = type.__dict__["__qualname__"].__get__
_compile, _eval, _exec = compile, eval, exec
_getattr, _callable = getattr, callable
_len, _isinstance, _enumerate = len, isinstance, enumerate
_settrace, _setprofile = sys.settrace, sys.setprofile
_monotonic = time.monotonic
_dict_clear = dict.clear
_gc_collect = gc.collect
_scalars = frozenset({int, float, str, bool, type(None), bytes, complex})
_ops = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


class StrictAssertionError(_AssertionError):
    pass


StrictAssertionError.__qualname__ = "AssertionError"  # what a test author wrote


def describe(exc):
    if _type(exc) in _SYNTAX_ERRORS:
        return ("%s: %s (line %s)" % (_type(exc).__name__, exc.msg, exc.lineno))[:MESSAGE_MAX]
    try:
        name = _qualname(_type(exc))
    except _BaseException:
        name = "Exception"
    try:
        text = _exc_str(exc)
    except _BaseException:
        text = ""
    msg = name + (": " + text if text else "")
    return msg[:MESSAGE_MAX]


def read_nonce(fd):
    buf = _read_exact(fd, NONCE_LEN + 1)
    if buf is None:
        _os_exit(0)  # the zygote has no more work for us
    return buf[:NONCE_LEN].decode("ascii")


def send(fd, frame):
    _write_frame(fd, frame)


def send_ok(fd, nonce):
    # The common frame, without the JSON encoder (cold in every new child).
    _write_raw(fd, b'{"n":"' + nonce.encode("ascii") + b'","s":"' + _OK + b'"}')


def trusted_copy(value):
    """A value rebuilt as plain built-ins (opaque if it is not one). In the test process, as
    large as the values that cross from the program (rpc.VALUE_NODES): an expected list of a
    million items must compare with the program's."""
    return _decode(_encode(value, _VALUE_NODES), 0, _VALUE_NODES)


def strict(kind, ops, *operands):
    # Called from assert statements rewritten by StrictAsserts.
    if kind == "api":  # a method call's receiver, in a statement of its own (see visit_Expr)
        target = operands[0]
        if _isinstance(target, _Remote):
            _set_used(target, True)
        return target
    if kind == "make":  # a call in a comparison's operand (see _CompareRewriter.expect)
        n = _len(operands) - _len(ops) + 1  # the function and its arguments, then keywords' values
        return _make(ops[0], operands[0], operands[1:n], dict(zip(ops[1:], operands[n:])))
    if kind == "cmp" and _len(ops) == 1 and ops[0] in _ARRAY_OPS and _any(_map(_number_array, operands)):
        return _array_compare(ops[0], *operands)
    if kind == "cmp" and _len(ops) == 1 and ops[0] in ("==", "!=") and _any(_map(_dtype, operands)):
        return _dtype_compare(ops[0], *operands)
    if kind == "cmp":
        left = operands[0]
        for op, right in zip(ops, operands[1:]):
            if op == "is" or op == "is not":
                # A copy's identity says nothing of the program's object - but `is None`
                # (or True, False...) says what it is, copy or not, and one object is itself
                # (a call that returns the object it was given returns that object: rpc's
                # "arg"). A copy against any other object is not judged: it may stand for the
                # test's own (a shallow copy's items are the argument's items there).
                if left is not right and not (left in _singletons or right in _singletons):
                    if _id(left) in _copies or _id(right) in _copies:
                        raise StrictAssertionError(
                            "the identity of a value from the program cannot be judged: it crossed as a copy"
                        )
                ok = (left is right) if op == "is" else (left is not right)
            elif _type(left) in _scalars and _type(right) in _scalars:
                ok = _ops[op](left, right)  # C-level comparison of exact built-ins
            elif (op == "==" or op == "!=") and left is right and _isinstance(left, _Remote) and left._entry:
                # One proxy per program object: an object the test read as a program class's
                # attribute (an Enum member: `g() == Color.GREEN`) equals itself. What a call
                # made (`Point(1, 2)`) stays undecided below: the program chooses which it is.
                ok = op == "=="
            elif (
                (op == "==" or op == "!=")
                and _isinstance(left, _Remote)
                and _isinstance(right, _Remote)
                and left._t in _CLASS_TYPES
                and right._t in _CLASS_TYPES
            ):
                ok = (left is right) is (op == "==")  # two program classes (`type(f()) == P`): by identity
            elif (
                (op == "in" or op == "not in")
                and _isinstance(left, _Remote)
                and left._t in _CLASS_TYPES
                and _type(right) in (list, tuple)
            ):
                ok = _any(x is left for x in right) is (op == "in")  # `type(f()) in (P, Q)`: by identity
            elif (
                (op == "in" or op == "not in")
                and _isinstance(left, _Remote)
                and left._entry
                and _type(right) in (list, tuple)
                and _any(x is left for x in right)
            ):
                ok = op == "in"
            elif _test_instance(left) or _test_instance(right):
                # An object of a class the test defined (its ListNode with its own __eq__): the
                # test's code compares it. What the program sent inside it is plain data or
                # handles, whose == is identity (rpc.Remote), so no program code decides.
                ok = _ops[op](left, right)
            else:
                ok = _compare(op, left, right)
            if ok is not True:
                return False
            left = right
        return True
    _forget()  # the assert's operands are evaluated: its expected calls are done with
    value = operands[0]
    if _type(value) not in _scalars and _type(value) is not _TruthyOpaque:  # a Match: the codec's
        value = trusted_copy(value)  # TruthyOpaque, true whatever made it
    if _isinstance(value, _Opaque) and _type(value) is not _TruthyOpaque:
        raise StrictAssertionError("assert on a value with no trusted truth value: %r" % value)
    truth = not value if kind == "falsy" else not not value
    if not truth:
        raise StrictAssertionError("assertion failed")
    return True


def _compare(op, left, right):
    """`left op right` on trusted copies; where either holds a program object or a call of a
    program class the test made, with those as expected.resolved gives them (a Record of the
    program's answer against the test's call)."""
    a, b = trusted_copy(left), trusted_copy(right)
    try:
        if _isinstance(a, _Opaque) or _isinstance(b, _Opaque):
            raise _OpaqueCompared("%r cannot be compared on the trusted side" % (a if _isinstance(a, _Opaque) else b,))
        return _ops[op](a, b)
    except _OpaqueCompared as exc:  # an opaque value, maybe nested in either side
        if not (_involves(left) or _involves(right)):
            # Never decided by a program-defined __eq__, and never False either (`assert not
            # (x != y)` would then pass): the assert fails here.
            raise StrictAssertionError(_exc_str(exc)) from None
    try:
        a, b = _sides(left, right)  # a set of two equal records refuses itself
        if _isinstance(a, _Opaque) or _isinstance(b, _Opaque):
            raise _OpaqueCompared("%r cannot be compared on the trusted side" % (a if _isinstance(a, _Opaque) else b,))
        return _ops[op](a, b)
    except (_OpaqueCompared, _Unordered) as exc:
        raise StrictAssertionError(_exc_str(exc)) from None
    except _CallMismatch:
        raise  # `Point(0, 0, 0)` against the class's __init__: the TypeError its call raises
    except TypeError:  # `Vec(1, 2) < Vec(3, 4)`: the order of a program's objects is its own code's
        raise StrictAssertionError("%r %s %r is not judged on the trusted side" % (left, op, right)) from None


_ARRAY_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})


def _number_array(value):
    """Is `value` an array of numbers or booleans of this process's numpy? In the test process
    (which runs no program code) that numpy is the genuine one, and such an array is the test's
    own or a copy of the program's (rpc: arrays cross as copies)."""
    return rpc.number_array(value, "biufc")


def _array_compare(op, left, right):
    """`left op right` with numpy's elementwise meaning, an array of booleans the test goes on
    with (`(f(x) == np.array([2, 4])).all()`): numpy compares the arrays, the other operand
    taken as its trusted copy (plain data; an opaque one fails the assert, as below)."""
    numpy = sys.modules["numpy"]
    sides = []
    for x in (left, right):
        if not _number_array(x):
            x = trusted_copy(x)
            if _isinstance(x, _Opaque):
                raise StrictAssertionError("%r cannot be compared on the trusted side" % (x,))
            try:
                x = numpy.asarray(x)
            except (ValueError, TypeError) as exc:  # ragged lists: numpy would raise as well
                raise StrictAssertionError("cannot be compared as an array: %s" % (exc,)) from None
            if x.dtype.kind not in "biufc":
                raise StrictAssertionError("cannot be compared as an array of numbers: %s" % (x.dtype,))
        sides.append(x)
    # Arrays compare in equal shapes, or against a single number (`f() > 0`): numpy would raise
    # on others or broadcast them, and a fallback to Python's identity made `a != b` true, while
    # broadcasting let an empty or a one-item answer pass `(f() == [2, 4]).all()`. A result
    # larger than a value that may cross is refused before it is made.
    a, b = sides
    if a.shape != b.shape and a.ndim and b.ndim:
        raise StrictAssertionError("arrays of shapes %s and %s are not equal in shape" % (a.shape, b.shape))
    size = a.size if a.ndim else b.size
    if size > _VALUE_NODES:
        raise StrictAssertionError("the comparison's array would hold %d items" % size)
    result = _ops[op](*sides)
    if _type(result) is not numpy.ndarray:
        raise StrictAssertionError("not compared as arrays")
    return result


def _dtype(value):
    """Is `value` a dtype of this process's numpy (an array's, in the test process)?"""
    numpy = sys.modules.get("numpy")
    return numpy is not None and _isinstance(value, numpy.dtype)


def _dtype_compare(op, left, right):
    """`a.dtype == np.float64`, `== int`, `== 'int64'`: numpy's own dtype equality, the other
    side a dtype, a type of the builtins' or numpy's, or a string (never a program object)."""
    for x in (left, right):
        if not (_dtype(x) or _type(x) is str or (_type(x) is type and x.__module__ in ("builtins", "numpy"))):
            raise StrictAssertionError("%r cannot be compared with a dtype on the trusted side" % (trusted_copy(x),))
    return bool(left == right) is (op == "==")


def run_phase(fn):
    """Run `fn()`; return (status, payload)."""
    try:
        return OK, fn()
    except StrictAssertionError as exc:
        return FAIL, describe(exc)
    except _AssertionError as exc:
        return FAIL, describe(exc)
    except _MemoryError:
        return MEMORY, "MemoryError"
    except _RecursionError as exc:
        return ERROR, describe(exc)
    except _SystemExit as exc:
        return ERROR, "SystemExit: the program exited (" + describe(exc) + ")"
    except _BaseException as exc:
        return ERROR, describe(exc)


def compile_program(source):
    """(code, None) or (None, (status, message)); runs in the child, under its limits."""
    try:
        return _compile(source, "<program>", "exec"), None
    except (_SyntaxError, ValueError) as exc:
        return None, (SYNTAX, describe(exc))
    except _MemoryError:
        return None, (MEMORY, "MemoryError while compiling the program")
    except Exception as exc:  # RecursionError, OverflowError...: the program's fault
        return None, (SYNTAX, "the program cannot be compiled: " + describe(exc))


def probe_values(codes, ns, values, sent, nonce, res_fd, index, log, at=None):
    """Evaluate probes in order into `values`; return the ones not sent as parts yet. A
    probe's standard-library names (`list`, `map`, `Counter`) are the ones this process
    imported before the program ran (TRUSTED), not the program's. `at`: per probe, the
    index of the probe after which the test reads its value (None: each right away); it is
    encoded then, as the test's operation sees it (`f(1) != f(2)` of a program that returns
    one list it changes compares that list with itself). Before each probe, the values
    encoded since the one before go to the values log (`log`: [offset], or None once it
    fails): a later probe that loops, exits or crashes the process leaves them judged."""
    last = _monotonic()
    logged = 0
    held = {}  # probe index -> its value, read later (see `at`)
    done = {}  # probe index -> its encoded value, waiting for an earlier one's
    for i, (c, own) in _enumerate(codes):
        while logged < _len(values) and log[0] is not None:
            log_value(log, index, values[logged])
            logged += 1
        if _monotonic() - last >= PART_EVERY_S and _len(values) > sent[0]:
            send(res_fd, {"n": nonce, "s": PART, "v": values[sent[0] :]})
            sent[0] = _len(values)
            last = _monotonic()
        value = _eval(c, ns, TRUSTED if not own else own_scope(ns) if own is True else beside_program(ns))
        if at is None:
            values.append(_encode(value, _MAX_NODES, ns))
            continue
        held[i] = value
        for j in [j for j in held if at[j] <= i]:
            done[j] = _encode(held.pop(j), _MAX_NODES, ns)
        while _len(values) in done:
            values.append(done.pop(_len(values)))
    if held or done:  # `at` past the last probe: read at the end
        for j in sorted(held):
            done[j] = _encode(held.pop(j), _MAX_NODES, ns)
        values.extend(done[j] for j in sorted(done))
    return values[sent[0] :]


def log_value(log, index, value):
    """Append [index, value] to the values log at log[0] (its offset); a value too large to
    write twice, or a log that is full or gone, ends logging (log[0] = None)."""
    try:
        body = _dumps([index, value]).encode("utf-8")
        if _len(body) > LOG_VALUE_MAX:
            log[0] = None
            return
        record = _len(body).to_bytes(4, "big") + body
        if _pwrite(LOG_FD, record, log[0]) != _len(record):
            log[0] = None
            return
        log[0] += _len(record)
    except _BaseException:
        log[0] = None


def load(prelude, code, ns, given=None):
    """Run the job's prelude (compiled trusted text, or None), then the program, in `ns`;
    `given` (a dict) gets what the prelude bound."""
    if prelude is not None:
        _exec(prelude, ns)
        if given is not None:
            given.update(ns)
    _exec(code, ns)


def binds(code, name):
    """Does the program's code (its module's, or a function's `global name`) bind `name`?
    `from math import factorial`, `comb = math.comb`, `from math import *` (at module level, the
    only place it may be): the program's own choice of its function, even where the prelude
    bound the same object."""
    import dis  # the rare case only: a call target the prelude bound as well

    todo = [(code, ("STORE_NAME", "STORE_GLOBAL"))]
    while todo:
        c, stores = todo.pop()
        for ins in dis.get_instructions(c):
            if (ins.opname in stores and ins.argval == name) or (c is code and ins.opname == "IMPORT_STAR"):
                return True
        # Nested code: a function's `global name`; a class body's STORE_NAME is its own.
        todo.extend((k, ("STORE_GLOBAL",)) for k in c.co_consts if _type(k) is _type(code))
    return False


def run_tests(program, tests, ctl_fd, res_fd, prelude=None):
    """Tests mode: program once, then each prepared test with a fresh nonce.

    `program` comes from `compile_program` (done in the zygote, before fork), or is the
    source, compiled here once the load phase's nonce has come: the test process compiles the
    job's tests before the zygote sends it, in the same memory cgroup, and a program's compile
    (`'A' * 4096 + ...` keeps every string alive) must not compete with it for memory then. `tests`
    come from `prepare_test`; `prelude`: the job's prelude, compiled.
    """
    # Loaded as a module, as AceCoder's and HumanEval's evaluators exec it: its main block (a
    # demo reading input(), unittest.main()) is not run before the tests. Stdin/stdout and raw
    # runs (run_stdio, capture.py) run it as __main__, a script.
    # A real module under that name in sys.modules: dataclasses (string annotations), pickle
    # and `sys.modules[__name__]` look the program's module up by its name.
    frames_off_the_limit(PROBE_FRAMES)
    module = _module_type(PROGRAM_MODULE)
    ns = module.__dict__
    ns["__builtins__"] = builtins
    sys.modules[PROGRAM_MODULE] = module
    nonce = read_nonce(ctl_fd)
    if _type(program) is str:
        program = compile_program(program)
    code, error = program
    if error is not None:
        send(res_fd, {"n": nonce, "s": error[0], "m": error[1]})
        _os_exit(0)
    given = {}  # the prelude's names: never a call test's target unless the program rebinds them
    status, msg = run_phase(lambda: load(prelude, code, ns, given))
    if status != OK:
        send(res_fd, {"n": nonce, "s": status, "m": msg})
        _os_exit(0)  # the zygote stops here: no test runs after a failed load
    send_ok(res_fd, nonce)
    endpoint = None
    log = [0]  # the values log's offset (see log_value)
    for index, (kind, test_code, extra) in _enumerate(tests):
        if kind == "remote":  # run by the test process: only its requests are ours
            if _read_exact(ctl_fd, NONCE_LEN + 1) != SERVE_TOKEN:
                _os_exit(0)
            if endpoint is None:
                endpoint = _Endpoint(RPC_IN, RPC_OUT, _ALL_OPS, ns)
            try:
                if not endpoint.serve():
                    _os_exit(0)
            except _BaseException:  # a malformed request: not from the test process
                _os_exit(0)
            continue
        nonce = read_nonce(ctl_fd)
        _settrace(None)
        _setprofile(None)
        if test_code is None:
            status, out = ERROR, "the test itself does not compile: " + extra
        elif kind == "value":  # the probes of a trusted assert, in order
            values, sent = [], [0]
            status, out = run_phase(
                lambda: probe_values(test_code, ns, values, sent, nonce, res_fd, index, log, extra)  # noqa: B023
            )
            if status != OK:  # the values before the failure still count (an earlier assert
                send(res_fd, {"n": nonce, "s": status, "m": out, "v": values[sent[0] :]})  # may fail)
                continue
        elif kind == "call":

            def call(name=extra[0], args=extra[1], owner=extra[2]):
                fn = ns.get(name)
                if fn is not None and fn is given.get(name) and not binds(code, name):
                    fn = None  # the prelude's (itertools.count), which the program's code never binds
                cls = ns.get(owner) if owner is not None else None
                # LeetCode style: Solution().name wherever a fresh Solution() has that method, as the
                # datasets' evaluators call it (a global of the same name is then a helper).
                if cls is not None and fn is None:
                    fn = _getattr(cls(), name)
                elif cls is not None and _callable(cls):
                    try:
                        method = _getattr(cls(), name, None)
                    except Exception:  # the evaluators would fail here; the global is still an answer
                        method = None
                    if method is not None:
                        fn = method
                elif fn is None and owner is not None:
                    raise _NameError("neither %r nor a class %r is defined by the program" % (name, owner))
                if fn is None:
                    raise _NameError("name %r is not defined by the program" % name)
                return _encode(fn(*args))

            status, out = run_phase(call)
        else:
            status, out = ERROR, "unknown test kind %r" % (kind,)
        if status != OK:
            send(res_fd, {"n": nonce, "s": status, "m": out})
        else:
            send(res_fd, {"n": nonce, "s": OK, "v": out})
    read_nonce(ctl_fd)  # stay until the zygote has read our peak memory and lets go (EOF)
    _os_exit(0)


# Frames run_tests adds under the program's function beyond those counted when it starts (the
# probe's run_phase, its lambda, probe_values; a check()'s rpc request's serve, answer and
# _handle sit where those do): with them a one-frame-a-level recursion passes an assert to
# within a frame of the depth it reaches with the test appended to the program under `python3`
# (998 at the default limit; a call test 2 deeper). It fell 8 short.
PROBE_FRAMES = 3
_INT_MAX = (1 << 31) - 1  # the most sys.setrecursionlimit takes


def frames_off_the_limit(more):
    """Raise the recursion limit by the frames the sandbox holds under the program's code (those
    on the stack now, and `more` between here and the program's first frame): a program may
    recurse as deep as under `python3 prog.py` before its RecursionError. The program's own
    sys.setrecursionlimit (`10**5 + 10` for a recursion 10**5 deep) gets them on top too, and
    its sys.getrecursionlimit leaves them out."""
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    offset = depth + more
    set_limit, get_limit = sys.setrecursionlimit, sys.getrecursionlimit
    set_limit(get_limit() + offset)
    asked = [None]  # what the program set last (near INT_MAX the sum is cut)

    def setrecursionlimit(limit, /):
        # Its own error for what it refuses; INT_MAX (a program's "no limit") stays within C's int.
        set_limit(min(limit + offset, _INT_MAX) if _type(limit) is int and 1 <= limit <= _INT_MAX else limit)
        asked[0] = limit

    def getrecursionlimit():
        return get_limit() - offset if asked[0] is None else asked[0]

    sys.setrecursionlimit, sys.getrecursionlimit = setrecursionlimit, getrecursionlimit


def script_namespace():
    """The globals of a script, as `python3 solution.py` gives them: a real module named
    __main__ in sys.modules (`import __main__`, `sys.modules[__name__]`, pickle and dataclasses
    look it up there; the zygote's own boot module is no longer reachable by that name),
    `__file__`, and sys.argv."""
    module = _module_type("__main__")
    ns = module.__dict__
    ns["__builtins__"] = builtins
    ns["__file__"] = SCRIPT_FILE
    sys.modules["__main__"] = module
    sys.argv = [SCRIPT_FILE]
    return ns


def exit_status(exc):
    """What the interpreter exits with for an uncaught SystemExit: None is 0; an int (True and
    False too) is itself, in 8 bits (beyond a C long: 255); anything else is printed to stderr
    and exits 1."""
    code = exc.code
    if code is None:
        return 0
    if _isinstance(code, int):
        value = _int_index(code)  # its value, whatever an int subclass overrides
        return value & 0xFF if -(1 << 63) <= value < (1 << 63) else 0xFF
    try:
        _os_write(2, (_str(code) + "\n").encode("utf-8", "replace"))
    except _BaseException:
        pass
    return 1


def run_stdio(program, prelude=None):
    """Stdio mode: run the program as a script (after the job's `prelude`, compiled, if it
    has one); the exit status is the report."""
    frames_off_the_limit(2)  # load() and _exec: as deep as `python3 prog.py` (998 at the default)
    ns = script_namespace()
    code, error = program
    if error is not None:
        _os_write(2, error[1].encode("utf-8", "replace"))
        _os_exit(MEMORY_EXIT if error[0] == MEMORY else SYNTAX_EXIT)
    status, failure = 0, None
    try:
        load(prelude, code, ns)
    except _BaseException as exc:
        failure = exc
    flush_as_the_script_ends()
    if failure is None:
        pass
    elif issubclass(_type(failure), _SystemExit):
        status = exit_status(failure)
    elif issubclass(_type(failure), _MemoryError):
        status = MEMORY_EXIT
    else:
        try:
            _os_write(2, describe(failure).encode("utf-8", "replace"))
        except _BaseException:
            pass
        status = 1
    failure = None  # its frames hold the script's objects: gone before the globals are cleared
    if not end_as_interpreter(ns) and status != MEMORY_EXIT:
        status = FLUSH_FAILED_EXIT
    _os_exit(status & 0xFF)


def end_as_interpreter(ns=None):
    """What the interpreter does at a script's end and os._exit skips, in its order: wait for
    the program's threads (join_threads), run its atexit handlers, flush the standard streams,
    then clear the script's globals `ns` and collect (a writer on fd 1 a global holds, the
    contest idiom `write = open(1, "w").write`, flushes as it goes) and flush them again.
    False when a flush of sys.stdout or sys.stderr failed: the interpreter then exits with
    FLUSH_FAILED_EXIT (a program that closed fd 1 and printed did not succeed)."""
    join_threads()
    run_exit_handlers()
    flushed = _flush_standard_streams()
    # Then, as the interpreter's finalization does before it clears any module, the standard
    # streams are the original ones again: a program's own writer (the fast-I/O template's
    # IOWrapper) is flushed once, above, never after its globals are gone.
    for name in ("stdin", "stdout", "stderr"):
        try:
            setattr(sys, name, getattr(sys, "__%s__" % name))
        except _BaseException:
            pass
    if _type(ns) is dict:
        try:
            _dict_clear(ns)
            _gc_collect()
        except _BaseException:  # as the interpreter ignores errors in __del__
            pass
        # What __del__ printed meanwhile; the interpreter's own second flush finds `sys` cleared
        # and its streams are flushed as they are freed, their errors ignored: none is the status.
        flush_as_the_script_ends()
    return flushed


def flush_as_the_script_ends():
    """sys.stderr, then sys.stdout, flushed with their errors ignored: what the interpreter does
    as soon as the script's code returns or raises (before its threads are waited for and its
    atexit handlers run: their raw writes come after what the script printed)."""
    for name in ("stderr", "stdout"):
        try:
            stream = getattr(sys, name)
            if stream is not None:
                stream.flush()
        except _BaseException:
            pass


def _flush_standard_streams():
    """Flush the standard streams as the interpreter's exit does: sys.stdout and sys.stderr
    (whatever objects they are now, unless None or `closed`), whose failure is the exit
    status's (False here; stdout's is reported on fd 2), then the original ones, whose errors
    are ignored."""
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is None or _stream_closed(stream):
                continue
            stream.flush()
        except _BaseException as exc:
            flushed = False
            if stream is sys.stdout:
                try:
                    _os_write(
                        2,
                        ("Exception ignored while flushing sys.stdout:\n" + describe(exc) + "\n").encode(
                            "utf-8", "replace"
                        ),
                    )
                except _BaseException:
                    pass
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except _BaseException:
            pass
    return flushed


def _stream_closed(stream):
    """The interpreter's test before it flushes a standard stream at exit: a true `closed`
    attribute; one that is missing or cannot be read counts as open."""
    try:
        return bool(_getattr(stream, "closed"))
    except _BaseException:
        return False


def join_threads():
    """What the interpreter does at its exit first and os._exit skips: wait for the program's
    threads that are not daemons (the contest idiom runs `main` in a thread with a big stack,
    `Thread(target=main).start()`, and never joins it). A thread that never ends is the
    program's timeout, as it would be under `python3 prog.py`."""
    threading = sys.modules.get("threading")
    if threading is None:  # nothing imported it: no thread was started
        return
    try:
        threading._shutdown()
    except _BaseException:
        pass


def run_exit_handlers():
    """What the interpreter does at its exit and os._exit skips: the program's atexit
    handlers (a common fast-output template buffers all it prints and writes it from one).
    Their errors are ignored, as the interpreter ignores them; the exit status stays."""
    atexit = sys.modules.get("atexit")
    if atexit is None:  # nothing imported it: nothing registered
        return
    try:
        atexit._run_exitfuncs()
    except _BaseException:
        pass


def prepare_test(spec):
    """(kind, code or None, extra) for one test spec; runs in the zygote (snippets: in
    the test process).

    Snippets get their asserts rewritten (StrictAsserts) and the strict
    helper bound as a constant of the code object: comparisons run on codec
    copies, so no object from the program decides one.
    """
    kind = spec["kind"]
    if kind == "remote":
        return kind, True, None
    try:
        if kind == "value":  # "own": probes that use the program's names (asserts._plan_one)
            own = spec.get("own") or [False] * _len(spec["exprs"])
            at = spec.get("at")
            codes = tuple(
                (_compile(e, "<test>", "eval"), True if o is True else trusted.ALONE if o == trusted.ALONE else False)
                for e, o in zip(spec["exprs"], own)
            )
            return kind, codes, None if at is None else tuple(at)
        if kind == "call":  # "method_of": a class whose instance's method it is, if no global
            return kind, True, (spec["func"], spec["args"], spec.get("method_of"))
        try:
            code = _compile_snippet(spec["code"], lazy_chains=True)
        except _SyntaxError:
            # A chained comparison's link names (`:=`) cannot bind in a comprehension in a class
            # body: there its links are evaluated at once, as before.
            code = _compile_snippet(spec["code"], lazy_chains=False)
        return kind, _bind_const(code, _HELPER_PLACEHOLDER, strict), None
    except (_MemoryError, _RecursionError) as exc:
        return kind, None, TooCostlyToCompile(describe(exc))
    except (_SyntaxError, ValueError, TypeError) as exc:
        return kind, None, describe(exc)


def _compile_snippet(source, lazy_chains):
    tree = StrictAsserts(_HELPER_PLACEHOLDER, lazy_chains).visit(ast.parse(source, "<test>", "exec"))
    ast.fix_missing_locations(tree)
    with warnings.catch_warnings():  # "'str' object is not callable": it will be
        warnings.simplefilter("ignore")
        return _compile(tree, "<test>", "exec")


class TooCostlyToCompile(str):
    """prepare_test's error for a test whose own text ran out of memory or depth to compile:
    the test's cost, not a defect of its text (a SyntaxError)."""

    __slots__ = ()


TRUSTED = {}  # a probe's trusted names (sandbox/trusted.py), bound once the zygote's imports are done


def beside_program(ns):
    """A trusted.ALONE probe's names beside the program's (asserts._tested_alone): the program's where
    it defines them, else the genuine ones (the assert names other functions of the program's:
    an empty program fails it anyway)."""
    return {name: value for name, value in TRUSTED.items() if name not in ns}


def own_scope(ns):
    """An own probe's names beside the program's (asserts._own_candidates): the genuine built-ins the
    program does not define, and nothing else, as in `python3 prog.py` with the test appended: a
    `gcd` the program neither defines nor imports is a NameError, never math's (an empty program
    would pass `assert gcd(12, 18) == 6`)."""
    return {name: value for name, value in TRUSTED.items() if name not in ns and name in trusted.BUILTIN_NAMES}


def bind_trusted():
    """Bind TRUSTED, in the zygote after its imports and before the fork server is copied."""
    TRUSTED.update(trusted.bindings())


_HELPER_PLACEHOLDER = "<acefarm strict helper>"


def _bind_const(code, placeholder, value):
    """`code` with every `placeholder` constant (nested code too) replaced by `value`."""
    consts = tuple(
        value
        if type(c) is str and c == placeholder
        else _bind_const(c, placeholder, value)
        if type(c) is type(code)
        else c
        for c in code.co_consts
    )
    return code.replace(co_consts=consts)


class StrictAsserts(ast.NodeTransformer):
    """Rewrite `assert` statements so comparisons run on trusted copies.

    Every comparison inside an assert becomes `helper("cmp", ops, *operands)`,
    which compares values rebuilt by the codec (a program-defined `__eq__`,
    `__lt__` or `__bool__` never decides it); the assert itself becomes a call
    that raises unless the trusted truth value holds.
    """

    _OPS = {  # noqa: RUF012  read only
        ast.Eq: "==",
        ast.NotEq: "!=",
        ast.Lt: "<",
        ast.LtE: "<=",
        ast.Gt: ">",
        ast.GtE: ">=",
        ast.In: "in",
        ast.NotIn: "not in",
        ast.Is: "is",
        ast.IsNot: "is not",
    }

    def __init__(self, helper, lazy_chains=True):
        self.helper = helper
        self.lazy_chains = lazy_chains

    def _call(self, kind, ops, operands):
        return ast.Call(
            func=ast.Constant(self.helper),  # replaced by the helper itself after compile
            args=[ast.Constant(kind), ast.Constant(tuple(ops))] + operands,
            keywords=[],
        )

    def visit_Expr(self, node):
        # `c.put(1, 1)`, `acct.add(5)` as a statement: a method called for what it does to its
        # object, which the test so uses by its own API: a value-method name (`get`, `add`,
        # `count`) on it is that object's method too (rpc.Remote), as on `Solution()`.
        self.generic_visit(node)
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            call.func.value = self._call("api", (), [call.func.value])
        return node

    def visit_Assert(self, node):
        test = _CompareRewriter(self).visit(node.test)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            call = self._call("falsy", (), [test.operand])
        else:
            call = self._call("truth", (), [test])
        return ast.copy_location(ast.Expr(call), node)


# Built-ins that read their caller's frame (`eval('add(1, 2)')` sees the test's names): called
# where the test calls them, never through the helper.
_FRAME_READERS = frozenset({"eval", "exec", "locals", "vars", "dir", "globals", "super", "breakpoint", "__import__"})


class _CompareRewriter(ast.NodeTransformer):
    def __init__(self, outer):
        self.outer = outer
        self.chains = 0

    def expect(self, node, depth=0):
        """A comparison's operand with each call by a plain name in it (`Point(1, 2)`, in its
        list, tuple, set and dict displays and in such calls' arguments) made through the
        helper's "make" (expected.make): a program class's call with the test's data is then
        the expected value on the trusted side, never made in the program's process."""
        if depth > 32:
            return node
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            node.elts = [self.expect(e, depth + 1) for e in node.elts]
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            node.elt = self.expect(node.elt, depth + 1)  # `[Point(x, y) for x, y in pairs]`
        elif isinstance(node, ast.DictComp):
            node.key, node.value = self.expect(node.key, depth + 1), self.expect(node.value, depth + 1)
        elif isinstance(node, ast.Dict):
            node.keys = [k if k is None else self.expect(k, depth + 1) for k in node.keys]
            node.values = [self.expect(v, depth + 1) for v in node.values]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in _FRAME_READERS
            and not any(isinstance(a, ast.Starred) for a in node.args)
            and all(k.arg is not None for k in node.keywords)
        ):
            args = [self.expect(a, depth + 1) for a in node.args]
            values = [self.expect(k.value, depth + 1) for k in node.keywords]
            names = [node.func.id] + [k.arg for k in node.keywords]
            call = self.outer._call("make", names, [node.func, *args, *values])
            return ast.copy_location(call, node)
        return node

    def visit_Compare(self, node):
        node.left = self.expect(node.left)
        node.comparators = [self.expect(c) for c in node.comparators]
        self.generic_visit(node)
        ops = [StrictAsserts._OPS[type(op)] for op in node.ops]
        operands = [node.left] + node.comparators
        if len(ops) == 1 or not self.outer.lazy_chains:
            return ast.copy_location(self.outer._call("cmp", ops, operands), node)
        # `a < f() < g()` as Python runs it: each link in turn, the middle operands evaluated
        # once, and no later operand once a link is false (g() is never called when a < f() is
        # not true).
        links, left = [], operands[0]
        for i, (op, right) in enumerate(zip(ops, operands[1:])):
            if i < len(ops) - 1:
                name = "_acefarm_link_%d" % self.chains
                self.chains += 1
                right = ast.NamedExpr(target=ast.Name(name, ast.Store()), value=right)
                links.append(self.outer._call("cmp", [op], [left, right]))
                left = ast.Name(name, ast.Load())
            else:
                links.append(self.outer._call("cmp", [op], [left, right]))
        return ast.copy_location(ast.BoolOp(op=ast.And(), values=links), node)
