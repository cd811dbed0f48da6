"""The test process: runs the snippet tests the host could not judge, and never program code.

A snippet such as HumanEval's `check(candidate)` with a loop over random inputs cannot be
planned into probes on the host, so it runs in the sandbox. Run in the program's own
process, a program could reach the runner there (steal the phase nonce, swap the prepared
tests, trace over the strict helper). So it runs here, in a second child the fork server
forks before the program's child: an older pid the program may not signal (seccomp), a
non-dumpable process it may not read. The snippet sources reach only this process (a memfd
the kernel filled from the host's pipe: see zygote._splice_in): neither the zygote nor the
program's process ever holds them, so the literals they compare against are nowhere a
program can look.

Test code sees the program through `rpc`: each of the program's globals arrives as a value
(plain data, copied by the codec) or as a `Remote` proxy whose calls, attributes, items and
iteration are requests to the program's process; its exception classes arrive as local
stand-ins. Lists, dicts and sets a call changes in place come back changed; functions the
test hands the program run here when it calls them. Every comparison runs here, on plain
values, under StrictAsserts. Standard library only.
"""

import ast
import builtins
import collections
import os
import sys
import types

from . import codec, expected, frames, rpc, runner, trusted
from .statuses import ERROR, OK, UNJUDGEABLE

PROGRAM_GONE = "the program ended during this test"
# The builtins as they were before any program ran (imported by the zygote at boot).
_PRISTINE_BUILTINS = dict(builtins.__dict__)


def main(snippets, ctl_fd, res_fd, to_program, from_program):
    """Take the snippets (the JSON list the host sent), then run one per nonce the zygote
    sends."""
    sources = frames.loads(snippets)
    if type(sources) is not list:
        os._exit(72)
    program = rpc.Endpoint(from_program, to_program, rpc.TEST_OPS)
    program.construct = expected.construction  # `expected = Point(4, 2)` keeps its call
    program.before_class_call = expected.snapshot  # the answers, before the program sees the call
    # Compiled before the ready frame: the zygote starts the program's load phase only once
    # this process is ready, so the tests' own set-up (a 100,000-item literal takes most of a
    # second) is never charged to the program's phases.
    prepared = [runner.prepare_test({"kind": "snippet", "code": source}) for source in sources]
    used = [_names(source) for source in sources]  # (names read, as modules, random?, tested alone)
    os.write(res_fd, frames.READY_FRAME)
    # The snippets' globals are a module named __main__, as a test appended to the program
    # runs in: unittest.main() finds its TestCase classes there, `import __main__` finds them.
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    ns, own = main_module.__dict__, {}
    # A test's `math`, `Counter` or `np` are this process's own, never the program's.
    genuine = {k: v for k, v in trusted.bindings().items() if k not in _PRISTINE_BUILTINS}
    for (_, code, error), names in zip(prepared, used):
        nonce = runner.read_nonce(ctl_fd)
        status, out = _run_snippet(program, code, error, ns, own, genuine, names)
        try:
            program.done()
        except OSError:
            pass  # the program is gone; the zygote sees to it
        if status == OK:
            runner.send_ok(res_fd, nonce)
        elif out == PROGRAM_GONE:  # the zygote then reports how the program ended; the rest is skipped
            runner.send(res_fd, {"n": nonce, "s": status, "m": out, "gone": True})
        else:
            runner.send(res_fd, {"n": nonce, "s": status, "m": out})
    os._exit(0)


def _is_module(value):
    """Is `value` the program's module (a handle to one in the program's process)?"""
    return isinstance(value, rpc.Remote) and value._t == "module"


def _trusted_module(name, value):
    """A module the program imported is this process's own copy of it, where there is one:
    a test calling `math.isclose` or `hashlib.md5` must not run the program's (maybe patched)
    module."""
    if _is_module(value):
        own_copy = sys.modules.get(name) or trusted.own_module(name)
        if own_copy is not None:
            return own_copy
    return value


_OWN_RANDOM = []  # this process's genuine random module, once looked up (sys.modules then
# holds the copy below)


def _shared_random(theirs):
    """With the test appended to the program, both share one `random`: a test's
    `random.seed(42)` fixes what the program then draws. Here the test's `random` is this
    process's own module; this copy of it seeds the program's module as well (its draws stay
    this process's). None when the program has no `random` module of its own to seed."""
    if not _is_module(theirs):
        return None
    if not _OWN_RANDOM:
        _OWN_RANDOM.append(trusted.own_module("random"))
    own = _OWN_RANDOM[0]
    if own is None:
        return None
    shared = types.ModuleType("random", own.__doc__)
    shared.__dict__.update(own.__dict__)
    own_seed = own.seed

    def seed(*args, **kwargs):
        own_seed(*args, **kwargs)
        theirs.seed(*args, **kwargs)

    shared.seed = seed
    return shared


def _genuine_for(name, value):
    """This process's own object for a trusted name it has not bound yet, from what the
    program bound under it (`value`), or None: the package behind an alias the program
    imported (`np`), or - where the program imported a module's namesake (`from datetime
    import datetime`, `from random import random`) - that namesake, as the test appended to
    the program would see it."""
    if not isinstance(value, rpc.Remote):
        return None
    module = trusted.ALIASES.get(name, name)
    if value._t == "module":
        try:
            return sys.modules.get(module) or (__import__(module) if name in trusted.ALIASES else None)
        except Exception:
            return None
    own = sys.modules.get(name) if name in trusted.MODULES else None
    namesake = getattr(own, name, None)
    return namesake if namesake is not None and type(namesake).__name__ == value._t else None


# The program globals a test may change in place and see the program use (rpc's "sync"), and how
# large one may be for its change to be looked for before each call.
_CONTAINERS = (list, dict, set, bytearray, collections.deque)
SYNC_NODES = 1 << 16


class _ProgramGlobals:
    """The program's globals a snippet reads that crossed as plain values (`placed`: name ->
    the copy put in `ns`), kept in step both ways around each call into the program: one the
    test changed in place (`CONFIG['scale'] = 3`, `memo.clear()`) goes across first, changed in
    place there too (`sync`); after the call each is read again, as the test appended to the
    program would see it (`inc()` then `assert cnt == 1`). Names the test rebound stay the test's."""

    def __init__(self, program, ns, placed):
        self.program, self.ns = program, ns
        self.placed = {k: v for k, v in placed.items() if not isinstance(v, rpc.Remote) and not callable(v)}
        self.seen = {k: self._state(v) for k, v in self.placed.items()}

    @staticmethod
    def _state(value):
        return codec.encode(value, SYNC_NODES) if isinstance(value, _CONTAINERS) else None

    def before(self):
        for k, v in self.placed.items():
            if self.ns.get(k, self) is v and self.seen[k] is not None:
                now = self._state(v)
                if now != self.seen[k]:
                    self.program.request({"op": "sync", "n": k, "v": self.program.ref(v)})
                    self.seen[k] = now

    def after(self):
        for k, v in self.program.names(only=sorted(self.placed)).items():
            if k in self.placed and self.ns.get(k, self) is self.placed[k]:
                self.ns[k] = self.placed[k] = v
                self.seen[k] = self._state(v)


def _names(source):
    """(The names a snippet reads and does not bind itself (a name it binds - `def check`, a
    parameter, a loop variable, an import - is the test's, not the program's, whatever the
    program defines under it), those of them it reads an attribute of that name a
    standard-library module: `hashlib` in `hashlib.md5(...)`, whether it names `random`, the
    library names it tests alone: trusted.tested_alone)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset(), frozenset(), False, frozenset()
    read, bound, bases, compares, uses = set(), set(), set(), [], {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in trusted.STDLIB_MODULES:
            bases.add(n.value.id)
        if isinstance(n, ast.Compare):
            compares.append(n)
        elif isinstance(n, ast.Name):
            (read if isinstance(n.ctx, ast.Load) else bound).add(n.id)
            uses[n.id] = uses.get(n.id, 0) + 1
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.alias):
            bound.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            bound.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            bound.add(n.rest)
    free = frozenset(read - bound)
    # Worked out now, not kept as a tree (a test's 100,000-item literal would stay in memory),
    # and only where it reads a name that may be the program's (2 of HumanEval's 164 checks).
    alone = trusted.tested_alone(compares, uses, bound) if any(trusted.ownable(k) for k in free) else frozenset()
    return free, free & bases, "random" in read or "random" in bound, alone


# Module-level names unittest looks up in __main__ by itself: a program's `load_tests` that
# returns an empty suite made unittest.main() run no test and exit 0. The test's own, or one
# the test names, is kept.
_UNITTEST_HOOKS = frozenset({"load_tests", "setUpModule", "tearDownModule"})


def _run_to_its_end(code, ns):
    """Run a snippet. Its own `sys.exit(0)` (unittest.main() after its tests passed) ends it
    as a script's end would, and a nonzero one fails it; a SystemExit from the program's
    process (rpc.OtherSideExit) is the program's, as before (runner.run_phase)."""
    try:
        exec(code, ns)
    except rpc.OtherSideExit:
        raise
    except SystemExit as exc:
        code_ = exc.code
        if code_ is None or code_ is False or (type(code_) is int and code_ == 0):
            return None
        raise AssertionError("the test exited with status %r" % (code_,)) from None
    return None


def _run_snippet(program, code, error, ns, own, genuine, names):
    """Run one prepared snippet in `ns`: the program's globals (refreshed) under the names the
    tests defined themselves (`own`, kept from test to test as in one shared namespace), with
    the standard library's names (`genuine`) bound to this process's objects whatever the
    program defined under them - unless the snippet uses no other name of the program's
    (`used`): then the program's own `sorted` or `gcd` is what it tests (never its `range`,
    `list` or `float`: trusted.NEVER_OWN)."""
    if code is None:
        if isinstance(error, runner.TooCostlyToCompile):
            return UNJUDGEABLE, "the test itself cannot be compiled within the job's limits: " + error
        return ERROR, "the test itself does not compile: " + error
    used, as_modules, uses_random, alone = names
    try:
        theirs = program.names()
    except BaseException as exc:
        return ERROR, runner.describe(exc)
    # A library name the program defines is its own where a comparison tests it alone.
    mine = {k for k in alone if k in theirs and k not in own}
    tested_by_name = not any(k in theirs and k not in own and not trusted.is_trusted(k) for k in used)
    if tested_by_name:
        mine |= {k for k in used if k in theirs and trusted.ownable(k)}
        # As with the test appended to the program: a library function it neither defines nor
        # imports is a NameError (an empty program would pass `check(factorial)`), a built-in is
        # the built-in, a module the module.
        genuine = {
            k: v
            for k, v in genuine.items()
            if k in trusted.BUILTIN_NAMES or k in trusted.MODULES or k in trusted.ALIASES
        }
    # A library function's or module's name the program binds to plain data (`log = []`,
    # `queue = [3, 4]`) is the program's data: the test reads it as such (a value cannot be
    # called or used as the function or module it shadows).
    mine |= {
        k
        for k in used
        if (k in trusted.FROM_IMPORTS or k in trusted.MODULES)
        and k in theirs
        and not isinstance(theirs[k], rpc.Remote)
        and (callable(genuine.get(k)) or k in trusted.MODULES)
        and not callable(theirs[k])
    }
    ns.update(
        {
            k: _trusted_module(k, v)
            for k, v in theirs.items()
            if k not in own
            and (not trusted.is_trusted(k) or k in mine)
            and not k.startswith("__")
            and (k not in _UNITTEST_HOOKS or k in used)
        }
    )
    theirs_random = theirs.get("random")
    if uses_random and not _is_module(theirs_random):
        try:  # `from random import randint`, `import random as rnd`: the module its draws use
            theirs_random = program.module("random")
        except Exception:
            theirs_random = None
    shared = _shared_random(theirs_random)
    if shared is not None:  # the test's `random` and its `import random` seed the program's too
        sys.modules["random"] = genuine_random = shared
        genuine = {**genuine, "random": genuine_random}
    for k in used:
        if k in theirs and k not in own and k not in mine and (k in trusted.MODULES or k in trusted.ALIASES):
            found = _genuine_for(k, theirs[k])
            if found is not None:
                genuine = {**genuine, k: found}
    for k in as_modules - own.keys():
        # `hashlib.md5(...)`: the genuine module, whatever the program bound under its name (a
        # class `hashlib` with a rigged md5 decides nothing) - but plain data (`queue = [3,
        # 4]`: a built-in value, whose methods are the genuine ones) is the program's data.
        if k in theirs and not isinstance(theirs[k], rpc.Remote) and not callable(theirs[k]):
            continue
        module = genuine.get(k) if k in trusted.MODULES else trusted.own_module(k)
        if module is not None:
            genuine = {**genuine, k: module}
            mine.discard(k)
            ns.pop(k, None)
    ns.update({k: v for k, v in genuine.items() if k not in own and k not in mine})
    ns["__builtins__"] = dict(_PRISTINE_BUILTINS)
    before = dict(ns)
    kept = _ProgramGlobals(program, ns, {k: ns[k] for k in used if k in theirs and ns.get(k, ns) is theirs[k]})
    if kept.placed:  # the usual snippet reads none: it calls the program's functions
        program.before_call, program.after_call = kept.before, kept.after
    try:
        status, out = runner.run_phase(lambda: _run_to_its_end(code, ns))
    finally:
        program.before_call = program.after_call = None
    # The test's own names: those it bound (a program global read again after a call is not).
    own.update({k: v for k, v in ns.items() if before.get(k, before) is not v and kept.placed.get(k, kept) is not v})
    if status == ERROR and out.startswith("PeerGone"):
        out = PROGRAM_GONE
    return status, out


__all__ = ["main"]
