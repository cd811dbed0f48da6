"""Calls between the test process and the program's process (see tester.py for why).

Each side holds an `Endpoint` on a pair of pipes. Values cross as plain data through the
codec; anything else crosses as a handle, and the other side sees a `Remote` proxy for it.
So a test can call the program's functions and use the objects they return, and the program
can call functions the test hands it (a lambda, a key function), each running where it was
defined. Both sides answer requests while waiting for a reply, so such calls nest.

Wire (4-byte length + UTF-8 JSON, both directions):
    request  {"op": "call", "h": id, "a": [ref], "k": {name: ref}}
           | {"op": "names", "only"?: [name, ...]} | {"op": "attr", "h": id, "n": name} | {"op": "list", "h": id}
           | {"op": "len", "h": id} | {"op": "item", "h": id, "i": ref} | {"op": "str" | "repr", "h": id}
           | {"op": "bool" | "iter" | "next", "h": id} | {"op": "setattr", "h": id, "n": name, "v": ref}
           | {"op": "isinstance", "h": class id, "a": ref}    (answered by the program's process)
           | {"op": "module", "n": name}       (the program's process: its sys.modules[name])
           | {"op": "sync", "n": name, "v": ref}   (the program's process: a global the test changed)
           | {"op": "await", "h": id}          (the program's process: runs its coroutine to its end)
           | {"op": "operator", "n": name, "a": [ref, ...]}  (the program's process: `a + b`, `-a`,
                                               `a[k] = v`, `with a:`, `reversed(a)`, `int(a)`,
                                               `copy.deepcopy(a)`, `vars(a)`, `issubclass(b, a)`,
                                               `format(a, spec)`
                                               on its objects and classes: _OPERATORS)
           | {"op": "records", "hs": [id, ...]}   (the program's process: the objects as probes'
                                               values, Records where they are: see expected.py)
           | {"op": "done"}                    (the test process: the phase is over; no reply)
    ref      {"v": encoded value}              plain data
           | {"l": [ref, ...], "tu": tuple?}   a list or tuple holding objects that are not plain
           | {"d": [[ref, ref], ...]}          data (the test's ListNodes, a program's tree
                                               nodes), and a dict holding them: a copy whose
                                               items are refs
           | {"m": id, "t": type name, "c": callable?}   an object of the sender's ("exc": lineage
                                               when it is an exception class)
           | {"p": id}                         an object of the receiver's, handed back
           | {"nd": [dtype, value, shape]}      a numpy array of numbers or booleans: a copy,
                                               an array of the receiver's numpy (see _array)
           + "sys"?: [recursion limit, int digits limit]   (either side: its sys
                                               settings changed since its last frame, null
                                               for one it left; the receiver takes them too)
    reply    {"ok": ref, "c": [[position or name, patch], ...]}   "c": arguments the callee
           | {"ok": {"arg": position or name}, "c": ...}   (it returned that argument itself)
           | {"ok": ..., "stop": true}          ("next": the iterator is exhausted)
           | {"err": [built-in base class name, message, lineage, state?]}   changed in place
    state    [[ref, ..] of the exception's args, [[attribute, ref], ..] of its own attributes]
             (read through BaseException's C-level getters: `e.args`, `e.errno`, a program
             exception's `e.needed` are there on the other side, as values or handles)
    lineage  [[the sender's own exception class names, most derived first], built-in base name]
Mirrors: a list, dict, set, bytearray, deque, tuple or list subclass of the program's that
crossed as a value ({"v"}, not a global "names" lists) and that the program still holds
afterwards (a getter's `return self._items`, a buffer it reuses), or that holds containers the
program holds (`list(self.rows)`: pinned, kept while the test keeps its copy), gets "mi": id in
its ref. Its copy in the test process is then
kept in step: each frame either side sends carries "mc": [[id, patch], ...], the ones its side
changed since the last frame (a snapshot of each one's items, compared by identity), which the
receiver applies in place first (only what changed: a row changed in place stays the receiver's
row, changed; see _patch), and "md": [id, ...], the ones it no longer holds. The same
object returned again is the same copy, updated, and the copy handed back to the program is its
own object ("mv": id beside "v"). So `s = h.items(); h.add(2)` changes `s`, and the test's
`s.append(3)` changes the program's list, as in one process. At most MIRROR_COUNT containers of
MIRROR_NODES items in all per side: past that, values cross as copies.
The program's process answers every request; the test process answers only "call", "list",
"len" and "item" on what the test handed over (TEST_OPS), and "attr", "bool", "str", "repr"
and "setattr" only for instances of the test's own classes (a linked list the test built, which
the program walks and relinks: `while node:`, `node.val`, `node.next = other`; "attr" only their
public attributes, "setattr" only public ones the instance holds and its class does not define;
"bool" of a function it handed over is True), so nothing else of it is reachable.
Standard library only.
"""

import builtins
import collections
import itertools
import operator
import re
import sys

from . import codec, frames, trusted

MAX_FRAME = 64 << 20
MESSAGE_MAX = 600
# Values as big as tests hand programs (a list of a million numbers), within MAX_FRAME.
VALUE_NODES = 4_000_000
_EXCEPTIONS = {
    name: obj for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException)
}
# Arguments a callee may change in place, which come back changed (the collections types the
# codec carries too: a deque rotated, an OrderedDict's key moved to its end, a Counter counted).
_IN_PLACE = (
    list,
    dict,
    set,
    bytearray,
    collections.deque,
    collections.OrderedDict,
    collections.Counter,
    collections.defaultdict,
)
# Items of the containers each side keeps in step with the other (see Endpoint's mirrors), all
# together: each is compared with its snapshot at every frame either side sends.
MIRROR_NODES = 1 << 12
MIRROR_COUNT = 32  # and at most this many mirrors each
# What comparing one container costs, in items: a frame looks at no more than MIRROR_NODES /
# CONTAINER_NODES (128) containers, about 50 us of Python.
CONTAINER_NODES = 32
PATCH_ITEMS = 64  # a patch changes at most this many items (or a quarter) one by one
_IN_PLACE_TYPES = frozenset(_IN_PLACE)
_is = operator.is_
# Bound when the zygote imports us, before any program: a program that patches `builtins`
# must not make its endpoint's handles collide.
_len, _callable, _id, _isinstance, _refcount = len, callable, id, isinstance, sys.getrefcount
# The program's process answers all of these; "bool", "setattr", "isinstance", "iter" and "next"
# serve test code that walks the program's objects (`while node:`, `head.next = ...`,
# `isinstance(n, ListNode)`, `next(gen)`).
ALL_OPS = frozenset(
    {
        "call",
        "names",
        "attr",
        "list",
        "len",
        "item",
        "str",
        "repr",
        "bool",
        "setattr",
        "isinstance",
        "iter",
        "next",
        "module",
        "sync",
        "await",
        "records",
        "operator",
    }
)
# The test process answers for what the test handed over, and "attr" only through
# test_attribute: an attribute walk from anything else (a generator's gi_frame.f_code.co_consts,
# a function's __globals__) would reach the test's literals.
TEST_OPS = frozenset({"call", "list", "len", "item", "attr", "bool", "str", "repr", "setattr", "iter", "next"})
_OF_TEST_INSTANCES = frozenset({"attr", "bool", "str", "repr", "setattr"})  # only on test_instance()
# A class's module, MRO and own namespace, read by type's own getters (no metaclass code runs).
_type_module = type.__dict__["__module__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
# In the test process: the ids of the containers that came from the program's process as
# copies. `c is not orig` on one of them says nothing of the program's own object
# (runner.strict refuses to judge it). Ids only: holding the copies would keep every value a
# test ever received alive (a loop over 100,000-item answers ran out of memory); an id a
# freed copy leaves may be refused for a later object of the test's, never the reverse.
COPIES = set()
_CONTAINERS = (list, dict, set, frozenset, tuple, bytearray, collections.deque)


class Singletons:
    """`x in Singletons(...)` by identity, never calling x's __eq__."""

    __slots__ = ("ids",)

    def __init__(self, objects):
        self.ids = frozenset(map(id, objects))

    def __contains__(self, x):
        return id(x) in self.ids


_object_dict = object.__getattribute__


def test_instance(target):
    """Is `target` an instance of a class the test defined itself (its module is the snippets'
    __main__)? Never a function, method, generator, frame, module or class."""
    cls = type(target)
    try:
        return type(cls) is type and _type_module(cls) == "__main__"
    except (AttributeError, TypeError):
        return False


def test_field(target, name):
    """May the program set attribute `name` of the test's object `target`? Only a public one
    the instance holds already and its class does not define (`node.next = ...` on the test's
    ListNode, as programs that relink a list do), never one that would shadow a method the test
    calls on it (`node.equals = lambda *a: True`)."""
    if type(name) is not str or name.startswith("_") or not test_instance(target):
        return False
    try:
        own = _object_dict(target, "__dict__")
    except (AttributeError, TypeError):
        return False
    return name in own and not any(name in vars(c) for c in _type_mro(type(target)))


def test_attribute(target, name):
    """May the program read attribute `name` of the test's object `target`? Only a public one
    of an instance of a class the test defined itself, as found on the instance or its class."""
    if name.startswith("_") or not test_instance(target):
        return False
    cls = type(target)
    try:
        own = _object_dict(target, "__dict__") if hasattr(cls, "__dict__") else {}
    except (AttributeError, TypeError):
        own = {}
    return name in own or any(name in vars(c) for c in _type_mro(cls)[:-1])


LOST = object()  # Remote._snap of an object the test used after its snapshot


class PeerGone(Exception):
    """The other process closed its end while we waited for its reply."""


class Remote:
    """An object that lives in the other process.

    In the test process a Remote is a program object the codec could not carry as a value.
    Its methods named like a built-in value's (`startswith`, `keys`, `issubset`) are refused:
    the test means a value there, and a program object answering them would decide the test.
    Objects the test makes by calling a program class by a CapWords name (`Solution()`,
    `MinStack()`: `_api`) keep all their methods, their own API."""

    __slots__ = (
        "_api",
        "_ctor",
        "_entry",
        "_ep",
        "_global",
        "_h",
        "_made",
        "_serial",
        "_snap",
        "_t",
        "_used",
        "_values",
    )

    def __init__(self, endpoint, handle, type_name):
        self._ep = endpoint
        self._h = handle
        self._t = type_name
        # True: a program class named in CapWords (see Endpoint.names); a type's name: a method
        # of an instance made by such a class, whose results of that type are made by it too.
        self._ctor = False
        self._api = False  # made by calling such a class
        # The test read it as an attribute of a program class (`Color.GREEN`): an object the
        # class holds, not one a call made, so its identity is the test's to compare.
        self._entry = False
        # A program global the test names (`stack.pop()`): its methods but predicates are its own.
        self._global = False
        # The test uses it by its own API (a method called as a statement, an attribute no
        # value has): the same, its methods but predicates.
        self._used = False
        # The test made it by calling a program class with data of its own (`Point(4, 2)`), and
        # has not used it since: that call, as a comparison judges it (expected.py).
        self._made = None
        # Its record as the program's process gave it just before the test's next call of a
        # program class (expected.snapshot), while the test has not used it since; LOST once
        # the test has.
        self._snap = None
        self._serial = endpoint.born  # the order proxies were made in: which a call made
        endpoint.born += 1
        # A class whose instances cross as values (a subclass of a built-in the codec carries:
        # a namedtuple, an IntEnum): a test's call of it is made, its value a copy.
        self._values = False

    def _touch(self):
        """The test uses this object (an attribute, a method, an argument): its kept call and
        its snapshot no longer say what it is."""
        self._made = None
        if self._snap is not None:
            self._snap = LOST

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._touch()  # used by the test: what it is now is the program's object's state
        if self._ep.ops is TEST_OPS and not self._api:
            # A class's own methods (`Solution.add`) and a global's (`stack.pop()`) are their
            # API; a predicate (`startswith`) never is: a function may return a class that
            # answers it.
            own = self._global or self._used or self._ctor is True
            if name in trusted.VALUE_METHOD_NAMES and (name in trusted.PREDICATES or not own):
                raise TypeError(
                    "a %s from the program is not a built-in value: .%s is not judged on it" % (self._t, name)
                )
            if not name.startswith("_") and self._t not in CLASS_TYPES:
                # `c.put(1, 1)`, `r.name`: what no built-in value has; the test uses the object
                # by its own API, whose `get` or `count` are then its own as well.
                self._used = True
        value = self._ep.request({"op": "attr", "h": self._h, "n": name})
        if self._api and _isinstance(value, Remote) and not value._ctor:
            value._ctor = self._t  # a method of the API: what it makes of the class is the API's too
        if self._t in CLASS_TYPES and self._ep.ops is TEST_OPS and _isinstance(value, Remote):
            value._entry = True
        return value

    def __iter__(self):
        self._touch()
        if self._ep.ops is TEST_OPS:  # a program's iterable, walked item by item (it may be endless)
            it = self._ep.request({"op": "iter", "h": self._h})
            if not _isinstance(it, Remote):
                return iter(it) if type(it) is list else iter(())
            return it
        value = self._ep.request({"op": "list", "h": self._h})
        if type(value) is not list:
            raise TypeError("%s object is not iterable here" % self._t)
        return iter(value)

    def __next__(self):
        reply = self._ep._exchange({"op": "next", "h": self._h})
        if reply.get("stop") is True:
            raise StopIteration
        return self._ep.deref(reply.get("ok"))

    def __bool__(self):  # test code's `while node:`; an assert's truth never asks (StrictAsserts)
        value = self._ep.request({"op": "bool", "h": self._h})
        if type(value) is not bool:
            raise TypeError("__bool__ returned a %s" % type(value).__name__)
        return value

    def __setattr__(self, name, value):
        if name in Remote.__slots__:
            object.__setattr__(self, name, value)
        elif name.startswith("_"):
            raise AttributeError("cannot set %r on a %s from the other process" % (name, self._t))
        else:  # head.next = ListNode(2): set on the other side's object (see test_field)
            self._touch()
            self._ep.request({"op": "setattr", "h": self._h, "n": name, "v": self._ep.ref(value)})

    def __instancecheck__(self, obj):  # isinstance(n, ListNode), ListNode a program class
        return self._ep.request({"op": "isinstance", "h": self._h, "a": self._ep.ref(obj)}) is True

    def __str__(self):  # str(node) == 'Node(3)': the program's own text for its object
        return self._text("str")

    def _text(self, op):
        value = self._ep.request({"op": op, "h": self._h})
        if not isinstance(value, str):
            raise TypeError("__%s__ returned a %s" % (op, type(value).__name__))
        return value

    def __format__(self, spec):
        if not spec:
            return self.__str__()
        if type(spec) is not str:
            raise TypeError("format spec must be a str")
        return self._protocol("format", self, spec)  # `f'{m:>8}'`: the program's __format__, in its process

    def __len__(self):
        self._touch()
        n = self._ep.request({"op": "len", "h": self._h})
        if type(n) is not int:
            raise TypeError("%s object has no length" % self._t)
        return n

    def __getitem__(self, key):
        self._touch()
        return self._ep.request({"op": "item", "h": self._h, "i": self._ep.ref(key)})

    def __eq__(self, other):
        if not _isinstance(other, Remote):
            return NotImplemented  # the other side's own __eq__ (a test class's), else identity
        same = other._ep is self._ep and other._h == self._h
        if same and self._ep.ops is TEST_OPS and not self._entry:
            # Which object a call answers is the program's choice (a constructor that always
            # returns one instance): the same object proves nothing, unless the test read it
            # as a class's attribute (an Enum member).
            raise TypeError("program objects are not compared in the test process: %s" % self._t)
        return same

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash((id(self._ep), self._h))

    def _operator(self, name, *operands):
        """`Vec(1, 2) + Vec(3, 4)`, `2 * v`, `-v` in test code: the program's own operator,
        computed in its process (its answer, judged as any: a record against the test's call)."""
        if self._ep.ops is not TEST_OPS:
            return NotImplemented
        for x in operands:
            if _isinstance(x, Remote):
                x._touch()  # handed to the program's code
        return self._ep.request({"op": "operator", "n": name, "a": [self._ep.ref(x) for x in operands]})

    def _protocol(self, name, *operands):
        """A protocol of the program's object in test code (`grid[0, 1] = 5`, `with res:`):
        its own method, run in its process; TypeError where the program holds the object."""
        result = self._operator(name, *operands)
        if result is NotImplemented:
            raise TypeError("a %s from the other process does not support this here" % self._t)
        return result

    def __setitem__(self, key, value):
        self._protocol("setitem", self, key, value)

    def __delitem__(self, key):
        self._protocol("delitem", self, key)

    def __reversed__(self):
        return self._protocol("reversed", self)

    def __index__(self):
        return self._protocol("index", self)

    def __int__(self):
        return self._protocol("int", self)

    def __float__(self):
        return self._protocol("float", self)

    def __enter__(self):
        return self._protocol("enter", self)

    def __exit__(self, kind, exc, tb):
        # Its built-in class only: a failed assert's message holds the test's expected values,
        # which never reach the program's process.
        self._protocol("exit", self, None if exc is None else _base_name(exc), None)
        return False  # see _exit: what the block raised goes on

    def __copy__(self):
        return self._protocol("copy", self)

    def __deepcopy__(self, memo):
        return self._protocol("deepcopy", self)

    def __subclasscheck__(self, cls):  # issubclass(B, A), A a program class
        return self._protocol("issubclass", cls, self) is True

    @property
    def __dict__(self):  # vars(obj), obj.__dict__: a copy of the program object's attributes
        return self._protocol("vars", self)

    def __repr__(self):
        if self._ep.ops is TEST_OPS:  # repr(node) in a test: the program's own text
            return self._text("repr")
        return "<%s from the other process>" % self._t

    def __add__(self, other):
        return self._operator("add", self, other)

    def __radd__(self, other):
        return self._operator("add", other, self)

    def __sub__(self, other):
        return self._operator("sub", self, other)

    def __rsub__(self, other):
        return self._operator("sub", other, self)

    def __mul__(self, other):
        return self._operator("mul", self, other)

    def __rmul__(self, other):
        return self._operator("mul", other, self)

    def __matmul__(self, other):
        return self._operator("matmul", self, other)

    def __rmatmul__(self, other):
        return self._operator("matmul", other, self)

    def __truediv__(self, other):
        return self._operator("truediv", self, other)

    def __rtruediv__(self, other):
        return self._operator("truediv", other, self)

    def __floordiv__(self, other):
        return self._operator("floordiv", self, other)

    def __rfloordiv__(self, other):
        return self._operator("floordiv", other, self)

    def __mod__(self, other):
        return self._operator("mod", self, other)

    def __rmod__(self, other):
        return self._operator("mod", other, self)

    def __pow__(self, other):
        return self._operator("pow", self, other)

    def __rpow__(self, other):
        return self._operator("pow", other, self)

    def __lshift__(self, other):
        return self._operator("lshift", self, other)

    def __rlshift__(self, other):
        return self._operator("lshift", other, self)

    def __rshift__(self, other):
        return self._operator("rshift", self, other)

    def __rrshift__(self, other):
        return self._operator("rshift", other, self)

    def __and__(self, other):
        return self._operator("and_", self, other)

    def __rand__(self, other):
        return self._operator("and_", other, self)

    def __xor__(self, other):
        return self._operator("xor", self, other)

    def __rxor__(self, other):
        return self._operator("xor", other, self)

    def __or__(self, other):
        return self._operator("or_", self, other)

    def __ror__(self, other):
        return self._operator("or_", other, self)

    def __iadd__(self, other):
        return self._operator("iadd", self, other)

    def __isub__(self, other):
        return self._operator("isub", self, other)

    def __imul__(self, other):
        return self._operator("imul", self, other)

    def __itruediv__(self, other):
        return self._operator("itruediv", self, other)

    def __ifloordiv__(self, other):
        return self._operator("ifloordiv", self, other)

    def __imod__(self, other):
        return self._operator("imod", self, other)

    def __lt__(self, other):  # `sorted(objects)` in test code: the program's own order
        return self._operator("lt", self, other)

    def __le__(self, other):  # `sorted(objects)` in test code: the program's own order
        return self._operator("le", self, other)

    def __gt__(self, other):  # `sorted(objects)` in test code: the program's own order
        return self._operator("gt", self, other)

    def __ge__(self, other):  # `sorted(objects)` in test code: the program's own order
        return self._operator("ge", self, other)

    def __neg__(self):
        return self._operator("neg", self)

    def __pos__(self):
        return self._operator("pos", self)

    def __invert__(self):
        return self._operator("invert", self)

    def __abs__(self):
        return self._operator("abs", self)


PRINTS_MAX = 1 << 20  # characters of a call's prints a test that captures them receives


class _Prints:
    """sys.stdout of the program's process during a call whose caller captures prints: text
    kept up to PRINTS_MAX characters (a flood is cut there, as a pipe's limit would cut it)."""

    encoding = "utf-8"

    def __init__(self):
        self.parts = []
        self.size = 0

    def write(self, text):
        if type(text) is not str:
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        room = PRINTS_MAX - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        return len(text)

    def flush(self):
        pass

    def writable(self):
        return True

    def isatty(self):
        return False


class _TestInput:
    """input() in the program's process while the test has it patched: the test's own input
    (a MagicMock's return_value or side_effect, a lambda) answers, as str."""

    def __init__(self, theirs):
        self.theirs = theirs

    def __call__(self, prompt=""):
        answer = self.theirs(prompt) if prompt != "" else self.theirs()
        if type(answer) is not str:
            raise TypeError("the test's input() gave a %s, not a str" % type(answer).__name__)
        return answer


class CallableRemote(Remote):
    """A Remote of a callable object (a function, a class, a bound method): only these can be
    called, so `callable(x)` tells the truth about the program's object."""

    __slots__ = ()

    def __mro_entries__(self, bases):
        # `class Cat(Animal): ...` in a test: the class and its methods live in the program's
        # process, where no class of the test's can join them. A clear error, not a broken class.
        raise TypeError(
            "a class of the program's cannot be subclassed by a test's class: it lives in the program's process"
        )

    def __call__(self, *args, **kwargs):
        ep = self._ep
        # `expected = Point(4, 2)`: the call, kept for comparisons until the test uses the object
        # (taken before the call: it may use the arguments' own made objects).
        made = ep.construct(self, None, args, kwargs) if ep.construct is not None else None
        if ep.before_class_call is not None and self._t in CLASS_TYPES:
            ep.before_class_call(ep)  # the program's code is about to see the test's values
        born = ep.born
        value = ep.call(self, args, kwargs)
        if made is not None and _isinstance(value, Remote) and value._serial >= born:
            value._made = made  # an object this call made, not one it had made before
        if self._ctor and _isinstance(value, Remote) and (self._ctor is True or value._t == self._ctor):
            value._api = True  # `Solution()`, and `Builder().add(1)` where add returns a Builder
        return value


class RemoteCoroutine(Remote):
    """A Remote of a program's coroutine (`double(3)` of an `async def double`). The test
    awaits it (`await double(3)`, `asyncio.run(double(3))`, `loop.run_until_complete(...)`):
    it runs to its end in the program's process, on an event loop of its own there, and the
    await's value is its result. So it is a Coroutine to asyncio: its first `send` ends it."""

    __slots__ = ()

    def _result(self):
        return self._ep.request({"op": "await", "h": self._h})

    def __await__(self):
        return self._result()
        yield  # a generator: the await ends at its first step, with the program's result

    def send(self, value):
        if value is not None:
            raise TypeError("a coroutine of the program's is started with send(None)")
        raise StopIteration(self._result())

    def __next__(self):  # what asyncio's Task calls on a coroutine that is not a native one
        return self.send(None)

    def throw(self, typ, value=None, traceback=None):
        raise typ if value is None else value

    def close(self):
        pass


class Endpoint:
    """One side of the pipes: makes requests, answers the other side's."""

    def __init__(self, rfd, wfd, ops, namespace=None):
        self.rfd, self.wfd = rfd, wfd
        self.ops = ops  # the requests this side answers
        self.namespace = namespace  # what "names" lists (the program's globals)
        self.table = {}  # handle -> our object the other side holds
        self.handles = {}  # id(object) -> handle: one handle per object, so `is` holds
        self._stand_ins = {}  # the other side's exception classes, as local classes
        self._shown = {}  # (class, str, repr) -> its subclass that shows them (_shown_as)
        self._remotes = {}  # handle -> the one Remote for it
        self.born = 0  # Remotes made so far (Remote._serial)
        # The other side's classes by handle: the names of the globals that hold each, as the
        # last names() saw them (a test's `Point(1, 2)` means the class of that global).
        self.class_names = {}
        # Called as construct(cls, written name or None, args, kwargs) before each call of a
        # program class by the test: what the call is as an expected value, or None (expected.py).
        self.construct = None
        # Called as before_class_call(endpoint) before each call of a program class by the test
        # (expected.snapshot: the answers as they are before the program sees the call's values).
        self.before_class_call = None
        self.fresh = []  # the program objects handed over since the last snapshot
        self.after_call = None  # called after each call this side makes (tester: refresh globals)
        self.before_call = None  # called before each (tester: the globals the test changed, across)
        # Mirror id -> [object, its snapshot as the other side has it (_snapshot), and on the
        # program's side whether it is pinned (kept while the test keeps its copy)]; see the
        # wire notes. Both sides map id(object) -> mirror id; the program's side collects its
        # values' refs as they cross (`_offered`): each becomes a mirror if held at the send.
        self.mirrors = {}
        self.mirror_ids = {}
        self.mirror_room = MIRROR_NODES
        self.mirror_serial = 0  # the program's side: the last mirror id given (never one again)
        self._offered = []
        # The interpreter's settings either side's code may change for the other's, as one
        # interpreter shares them (sent when they change: `_send`). The program's side sends
        # its own with its first frame (what the program set when it loaded).
        self._settings = _interpreter_settings() if ops is TEST_OPS else [None, None]
        self.stdout = sys.stdout  # this side's own, before any test redirected it
        self.input = builtins.input  # the same for input()

    # -- values across ---------------------------------------------------------------

    def ref(self, obj, depth=0):
        if _isinstance(obj, Remote) and obj._ep is self:
            obj._touch()  # handed to the other side, which may change it
            return {"p": obj._h}
        encoded = codec.encode(obj, VALUE_NODES, shared=True)  # `[[0] * 3] * 2` stays one row
        t = type(obj)
        if (
            (t is list or t is tuple or t is dict)
            and depth < codec.MAX_DEPTH
            and not (type(encoded) is dict and "X" in encoded)  # itself too large: one handle
            and holds_opaque(encoded)
        ):
            # Its items cross one by one: objects as handles, not as opaque copies.
            if t is dict:
                return {"d": [[self.ref(k, depth + 1), self.ref(v, depth + 1)] for k, v in dict.items(obj)]}
            items = list.__iter__(obj) if t is list else tuple.__iter__(obj)
            return {"l": [self.ref(x, depth + 1) for x in items], "tu": t is tuple}
        if type(encoded) is not dict or "X" not in encoded:
            ref = {"v": encoded}
            mirrorable = t in _IN_PLACE or _kind(t) is not None  # a tuple, a list subclass too
            if mirrorable and self.ops is not TEST_OPS:
                self._offered.append((obj, ref))
            elif mirrorable and self._mirror(obj) is not None:  # the program's own object, back
                ref["mv"] = self._mirror(obj)
            return ref
        if number_array(obj, "biuf"):
            # A numpy array of numbers or booleans crosses as a copy, an array on the other side
            # too: the program computes with the test's (`a.sum()`, `a * 2`), and the test with
            # the program's (`(f(x) == np.array([2, 4])).all()`, `.dtype`), with its own numpy,
            # as a handle could not be. The program's process may have replaced its numpy: then
            # its "array" only chooses its own values, as any answer does (checked on arrival).
            values = codec.encode(obj.tolist(), VALUE_NODES)
            if type(values) is not dict or "X" not in values:
                return {"nd": [str(obj.dtype.str), values, list(obj.shape)]}
        handle = self.handles.get(_id(obj))
        if handle is None:
            handle = self.handles[_id(obj)] = _len(self.table) + 1
            self.table[handle] = obj
        ref = {"m": handle, "t": encoded["X"], "c": _callable(obj)}  # callable(): a type slot, no code of obj's
        if type.__subclasscheck__(type, type(obj)) and any(c is b for c in _type_mro(obj) for b in _VALUE_BASES):
            ref["vc"] = True  # a class whose instances cross as values
        if type(obj) is type and issubclass(obj, BaseException):
            ref["exc"] = _lineage(obj)  # so `except ProgramError:` works on the other side
        return ref

    def deref(self, ref):
        if type(ref) is not dict:
            raise TypeError("malformed reference from the other process")
        if "v" in ref:
            if "mv" in ref and self.ops is not TEST_OPS:  # a mirror's copy handed back: our object
                entry = self.mirrors.get(ref["mv"])
                if entry is not None:
                    return entry[0]
            value = codec.decode(ref["v"], 0, VALUE_NODES, shared=True)
            if self.ops is TEST_OPS:
                if "mi" in ref:
                    value = self._mirrored(ref["mi"], value)
                _remember_copies(value)
            return value
        if "l" in ref or "d" in ref:
            if "l" in ref:
                items = [self.deref(r) for r in _list_of(ref["l"])]
                value = tuple(items) if ref.get("tu") is True else items
            else:
                value = {self.deref(k): self.deref(v) for k, v in _list_of(ref["d"])}
            if self.ops is TEST_OPS:
                COPIES.add(id(value))
            return value
        if "nd" in ref:  # a numpy array (see ref)
            value = _array(ref["nd"])
            if self.ops is TEST_OPS:
                COPIES.add(id(value))
            return value
        if "exc" in ref:
            return self.stand_in(ref["exc"])
        if "m" in ref:  # one proxy per object, so that `is` holds between them
            remote = self._remotes.get(ref["m"])
            if remote is None:
                kind = CallableRemote if ref.get("c") is True else Remote
                if kind is Remote and self.ops is TEST_OPS and ref.get("t") == "coroutine":
                    kind = RemoteCoroutine
                remote = self._remotes[ref["m"]] = kind(self, ref["m"], str(ref.get("t", "object"))[:80])
                remote._values = ref.get("vc") is True
                if kind is Remote and self.ops is TEST_OPS:
                    self.fresh.append(remote)  # an answer, maybe: expected.snapshot
            return remote
        if "p" in ref:
            return self.table[ref["p"]]
        raise TypeError("malformed reference from the other process")

    # -- requests ------------------------------------------------------------------

    def request(self, req):
        """Send `req`; answer the other side's requests until its reply comes; its value."""
        return self.deref(self._exchange(req).get("ok"))

    def call(self, remote, args, kwargs):
        request = {
            "op": "call",
            "h": remote._h,
            "a": [self.ref(a) for a in args],
            "k": {k: self.ref(v) for k, v in kwargs.items()},
        }
        if self.ops is TEST_OPS and sys.stdout is not self.stdout:
            request["o"] = True  # the test captures prints: the callee's come back with the reply
        if self.ops is TEST_OPS and builtins.input is not self.input:
            request["i"] = self.ref(builtins.input)  # the test patched input(): the callee's is it
        if self.before_call is not None:
            self.before_call()
        reply = self._exchange(request)
        changed = reply.get("c", [])
        if type(changed) is not list:
            raise TypeError("malformed reply from the other process")
        for where, patch in changed:
            target = args[where] if type(where) is int and 0 <= where < len(args) else kwargs.get(where)
            if type(target) in _IN_PLACE:
                self.apply_patch(target, patch)
                mid = self._mirror(target)
                if mid is not None:  # as it is now, not as a change of ours to send back
                    self._resnap(mid, self.mirrors[mid])
        ok = reply.get("ok")
        if type(ok) is dict and "arg" in ok:  # the callee returned an argument itself (see _handle)
            where = ok["arg"]
            if type(where) is int and 0 <= where < len(args):
                value = args[where]
            elif type(where) is str and where in kwargs:
                value = kwargs[where]
            else:
                raise TypeError("malformed reply from the other process")
            COPIES.discard(_id(value))  # the caller's own object (an id a freed copy left)
        else:
            value = self.deref(ok)
        if self.after_call is not None:
            self.after_call()
        return value

    def _exchange(self, req):
        self._send(req)
        while True:
            msg = self._receive()
            if msg is None:
                raise PeerGone("the other process ended during this call")
            if type(msg) is not dict:
                raise TypeError("malformed reply from the other process")
            if "op" in msg:
                self.answer(msg)
                continue
            out = msg.get("out")
            if type(out) is str and out:
                try:
                    sys.stdout.write(out)  # where the test's prints go now (see answer)
                except Exception:
                    pass
            if "err" in msg:
                raise self.exception(msg["err"])
            return msg

    def serve(self):
        """Answer requests until the other side says done (or leaves)."""
        while True:
            msg = self._receive()
            if msg is None or type(msg) is not dict or msg.get("op") == "done":
                return msg is not None
            self.answer(msg)

    def answer(self, msg):
        prints = saved = saved_input = None
        if msg.get("op") == "call" and self.ops is not TEST_OPS:
            if msg.get("o") is True:
                # The test redirected its stdout (redirect_stdout, a patched sys.stdout): what
                # the program prints during the call goes back with the reply, to be written there.
                prints, saved = _Prints(), sys.stdout
                sys.stdout = prints
            if "i" in msg:  # the test patched input(): the program's input() asks the test's
                saved_input = builtins.input
                builtins.input = _TestInput(self.deref(msg["i"]))
        try:
            reply = self._handle(msg)
        except BaseException as exc:  # the callee's exception, for the caller to raise
            reply = {"err": self._err_of(exc)}
        finally:
            if prints is not None:
                sys.stdout = saved
            if saved_input is not None:
                builtins.input = saved_input
        if prints is not None and prints.parts:
            reply["out"] = "".join(prints.parts)
        self._send(reply)

    def _handle(self, msg):
        op = msg.get("op")
        if op not in self.ops:
            raise PermissionError("%r is not answered here" % (op,))
        if self.ops is TEST_OPS and op in _OF_TEST_INSTANCES:
            target = self.table[msg["h"]]
            if op == "bool" and _callable(target) and not test_instance(target):
                return {"ok": {"v": True}}  # a function, lambda or method the test handed over
            if (
                not test_instance(target)
                or (op == "attr" and not test_attribute(target, msg["n"]))
                or (op == "setattr" and not test_field(target, msg["n"]))
            ):
                raise PermissionError("this %s is not answered here" % ("attribute" if op == "attr" else "request"))
        if op == "names":
            only = msg.get("only")
            chosen = self.namespace.items() if only is None else ((k, self.namespace.get(k)) for k in _list_of(only))
            offered = _len(self._offered)
            names = {k: self.ref(v) for k, v in list(chosen) if type(k) is str and not k.startswith("__")}
            # Globals are no mirrors: a test keeps the ones it reads in step itself (tester.py's
            # _ProgramGlobals), and a program's every table would be compared at every frame.
            del self._offered[offered:]
            return {"ok": {"v": None}, "names": names}
        if op == "sync":  # the test changed a program global it read as a value: the program's too
            name, value = msg.get("n"), self.deref(msg.get("v"))
            held = self.namespace.get(name) if type(name) is str and not name.startswith("__") else None
            if held is not None and type(held) is type(value) and type(held) in _IN_PLACE:
                _apply_in_place(held, value)  # in place: every alias of it in the program sees it
            return {"ok": {"v": None}}
        if op == "module":  # the module the program's own code uses (`from random import randint`)
            name = msg.get("n")
            return {"ok": self.ref(sys.modules.get(name) if type(name) is str else None)}
        if op == "operator":  # a test's `a + b` on the program's objects (Remote._operator)
            name, operands = msg.get("n"), [self.deref(a) for a in _list_of(msg.get("a"))]
            arity, apply = _OPERATORS.get(name, (-1, None))
            if _len(operands) != arity:
                raise TypeError("malformed operator request")
            return {"ok": self.ref(apply(*operands))}
        if op == "records":  # as probes' values: Records of classes their globals of those names hold
            objects = [self.table[h] for h in _list_of(msg.get("hs"))]
            return {"ok": {"v": codec.encode(objects, VALUE_NODES, records=self.namespace)}}
        target = self.table[msg["h"]]
        if op == "call":
            args = [self.deref(a) for a in msg["a"]]
            kwargs = {k: self.deref(a) for k, a in msg["k"].items()}
            # What the caller's containers were, to send back what the call changed in them,
            # position by position (a row it changed in place stays the caller's row).
            # (A mirror handed back changes through the mirror's own patches: once.)
            before = [
                (w, a, _snapshot(a, VALUE_NODES))
                for w, a in [*enumerate(args), *kwargs.items()]
                if type(a) in _IN_PLACE and self._mirror(a) is None
            ]
            value = target(*args, **kwargs)
            changed = [
                [w, self.patch(a, snap) if snap is not None else {"r": self.ref(a)}]
                for w, a, snap in before
                if snap is None or not _unchanged(a, snap)
            ]
            for where, a in [*enumerate(args), *kwargs.items()]:
                if value is a and type(a) in _IN_PLACE:
                    # It returned the list it was given (sorted in place): the caller's own
                    # object, changed as the call changed it (`assert f(a) is a`).
                    return {"ok": {"arg": where}, "c": changed}
            return {"ok": self.ref(value), "c": changed}
        if op == "attr":
            name = msg["n"]
            if type(name) is str and type.__subclasscheck__(type, type(target)):
                found = _class_entry(target, name)
                if found is not _MISSING:  # `Color.GREEN`: no metaclass code learns which was asked
                    return {"ok": self.ref(found)}
            return {"ok": self.ref(getattr(target, name))}
        if op == "list":
            return {"ok": {"v": codec.encode(list(target), VALUE_NODES)}}
        if op in ("iter", "next") and self.ops is TEST_OPS and not hasattr(type(target), "__next__"):
            # An iterator the test handed over (LeetCode's `PeekingIterator(iter(nums))`): the
            # program steps through it; nothing else of the test's is iterated for it.
            raise PermissionError("only an iterator the test handed over is stepped here")
        if op == "iter":
            return {"ok": self.ref(iter(target))}
        if op == "next":
            try:
                return {"ok": self.ref(next(target))}
            except StopIteration:
                return {"ok": {"v": None}, "stop": True}
        if op == "bool":
            return {"ok": {"v": bool(target)}}
        if op == "setattr":
            name = msg["n"]
            if type(name) is not str or name.startswith("_"):
                raise AttributeError("cannot set %r here" % (name,))
            setattr(target, name, self.deref(msg["v"]))
            return {"ok": {"v": None}}
        if op == "isinstance":
            return {"ok": {"v": isinstance(self.deref(msg["a"]), target)}}
        if op == "await":
            return {"ok": self.ref(_run_to_end(target))}

        if op == "len":
            return {"ok": {"v": len(target)}}
        if op == "str" or op == "repr":
            return {"ok": {"v": codec.encode(str(target) if op == "str" else repr(target), VALUE_NODES)}}
        return {"ok": self.ref(target[self.deref(msg["i"])])}  # item

    def names(self, only=None):
        """The other side's globals (those named in `only`, when given), as values and Remotes."""
        reply = self._exchange({"op": "names"} if only is None else {"op": "names", "only": list(only)})
        names = reply.get("names")
        if type(names) is not dict:
            raise TypeError("malformed globals from the program")
        out = {k: self.deref(r) for k, r in names.items() if type(k) is str}
        for name, value in out.items():
            if _isinstance(value, Remote) and value._t in CLASS_TYPES:
                held = self.class_names.setdefault(value._h, [])
                if name not in held:
                    held.append(name)
            if _isinstance(value, Remote) and value._t == "type" and name[:1].isupper():
                value._ctor = True
            elif _isinstance(value, Remote):
                value._global = True
        return out

    def records(self, remotes):
        """The other side's objects `remotes` as probes' values: codec Records (or opaque), one
        for each; TypeError for a reply of another shape."""
        records = self.request({"op": "records", "hs": [r._h for r in remotes]})
        if type(records) is not list or _len(records) != _len(remotes):
            raise TypeError("malformed records from the program")
        return records

    def module(self, name):
        """The other side's module `name`, as it has it imported (None if not)."""
        return self.request({"op": "module", "n": name})

    def done(self):
        self._send({"op": "done"})  # with the mirrors the test changed last

    # -- mirrors (see the wire notes) ---------------------------------------------------

    def _send(self, msg):
        if self._offered or self.mirrors:
            self._step(msg)
        settings = _interpreter_settings()
        if settings != self._settings:
            # One interpreter in Python: what either side's code set (`sys.setrecursionlimit`),
            # the other's code sees too; only what changed, so the other's own choice stays.
            msg["sys"] = [new if new != old else None for new, old in zip(settings, self._settings)]
            self._settings = settings
        frames.write_frame(self.wfd, msg)

    def _receive(self):
        msg = frames.read_frame(self.rfd, MAX_FRAME)
        if type(msg) is dict and "sys" in msg:
            # The test process keeps at least the default recursion limit its own code needs.
            _set_interpreter_settings(msg["sys"], 1000 if self.ops is TEST_OPS else 1)
            self._settings = _interpreter_settings()
        if type(msg) is dict and ("mc" in msg or "md" in msg):
            for mid, patch in _list_of(msg.get("mc", [])):  # first: a last change, then its end
                entry = self.mirrors.get(mid)
                if entry is not None:
                    self.apply_patch(entry[0], patch)
                    self._resnap(mid, entry)
            for mid in _list_of(msg.get("md", [])):
                self._forget(mid)
        return msg

    def _step(self, msg):
        """Before `msg` goes out: make mirrors of the program's values it carries that the
        program still holds, and add the changes of the others (and those no longer held)."""
        offered, self._offered = self._offered, []
        sent = set()
        for pair in offered:
            mid = self._mirror(pair[0])
            if mid is not None:
                pair[1]["mi"] = mid  # the copy there becomes this value
                self._resnap(mid, self.mirrors[mid])
                sent.add(mid)
            elif _len(self.mirrors) < MIRROR_COUNT:
                held = _held(pair)  # by more than `offered`'s pair
                # Else kept while the test keeps its copy: the program holds only what it holds.
                pinned = not held and _reaches_held(pair[0], self.mirror_room)
                snap = _snapshot(pair[0], self.mirror_room) if held or pinned else None
                if snap is not None:
                    self.mirror_serial += 1
                    mid = pair[1]["mi"] = self.mirror_serial
                    self.mirrors[mid], self.mirror_ids[_id(pair[0])] = [pair[0], snap, pinned], mid
                    self.mirror_room -= snap[2]
                    sent.add(mid)
        del offered
        unheld, moved = [], []  # looked for first, handled after: the table stays as it is meanwhile
        for mid, entry in self.mirrors.items():
            if _refcount(entry[0]) <= 2 and not (  # only by `entry`: nobody sees it, unless
                (_len(entry) > 2 and entry[2]) or (_kind(type(entry[0])) == "tuple" and _items_held(entry))
            ):
                unheld.append(mid)
            if mid not in sent and not _unchanged(entry[0], entry[1]):
                moved.append(mid)  # `s.grades.append(100)`: changed through a copy it let go
        changed, gone = [], []
        for mid in moved:
            entry = self.mirrors[mid]
            patch = self.patch(entry[0], entry[1])  # before the snapshot is taken again
            if mid in unheld or self._resnap(mid, entry) is not None:
                changed.append([mid, patch])
            else:  # grown past the room: left as it is
                gone.append(mid)
        for mid in unheld:
            self._forget(mid)
            gone.append(mid)
        if changed:
            msg["mc"] = changed
        if gone:
            msg["md"] = gone

    def patch(self, obj, snap):
        """What changed in `obj` since its `snap` (`_snapshot`), for the other side's copy of it
        (`apply_patch`): {"n": its length now, "p": [[position, change], ...]}, a change being
        {"r": ref} (a new item there) or a patch of the container still there; or {"r": ref}
        for all of it (a set, a bytearray, an OrderedDict, a dict whose keys changed). A row
        changed in place stays the other side's row, changed; a row replaced is a new one there
        too, as in one process."""
        offered = _len(self._offered)
        try:
            return self._patch(obj, snap)
        finally:
            del self._offered[offered:]  # what a change carries is no mirror of its own

    def _patch(self, obj, snap):
        items, old = _items_of(obj), snap[0]
        kind = _kind(type(obj))
        n = _len(items)
        if kind is None or (kind == "dict" and (n != _len(old) or not _same_keys(items, old))):
            return {"r": self.ref(obj)}
        most = max(PATCH_ITEMS, n // 4)  # past that, all of it at once (a list sorted in place)
        if sum(map(operator.is_not, items, old)) + max(0, n - _len(old)) > most and kind != "tuple":
            return {"r": self.ref(obj), "all": True}
        replaced = [*itertools.compress(range(n), map(operator.is_not, items, old)), *range(_len(old), n)]
        inner = [(i, x, s) for i, x, s in snap[1] if i < n and items[i] is x and not _unchanged(x, s)]
        if _len(replaced) + _len(inner) > most and kind != "tuple":
            return {"r": self.ref(obj), "all": True}
        changes = [[i, {"r": self.ref(items[i])}] for i in replaced]
        changes += [[i, self._patch(x, s)] for i, x, s in inner]
        return {"n": n, "p": changes}

    def apply_patch(self, target, patch):
        """Apply `patch`'s `patch` to `target`, this side's copy of what it describes, in place
        (through its base type's own methods: a program's subclass runs none of its code)."""
        if type(patch) is not dict:
            raise TypeError("malformed change")
        if "r" in patch:  # all of it ("all": known to have changed, not compared again)
            _apply_in_place(target, self.deref(patch["r"]), patch.get("all") is True)
            return
        n, changes, kind = patch.get("n"), _list_of(patch.get("p")), _kind(type(target))
        if type(n) is not int or kind is None or n < 0:
            raise TypeError("malformed change")
        base = {"list": list, "deque": collections.deque, "dict": dict, "tuple": tuple}[kind]
        keys = list(dict.keys(target)) if kind == "dict" else None
        if kind in ("list", "deque"):
            while base.__len__(target) > n:
                base.pop(target)
            base.extend(target, [None] * (n - base.__len__(target)))
        size = base.__len__(target)
        for i, change in changes:
            if type(i) is not int:
                raise TypeError("malformed change")
            if keys is not None:  # a dict's keys come first in its items, then its values
                if not size <= i < 2 * size:
                    raise TypeError("malformed change")
                where = keys[i - size]
            elif not 0 <= i < size:
                raise TypeError("malformed change")
            else:
                where = i
            if type(change) is dict and "r" in change:
                if kind == "tuple":
                    raise TypeError("malformed change")
                base.__setitem__(target, where, self.deref(change["r"]))
            else:
                self.apply_patch(base.__getitem__(target, where), change)

    def _mirrored(self, mid, value):
        """The test's copy for mirror `mid` of the program's: `value` the first time, after that
        the same object, changed in place to `value`."""
        if type(mid) is not int or (type(value) not in _IN_PLACE and _kind(type(value)) is None):
            return value
        entry = self.mirrors.get(mid)
        if entry is not None:
            if type(entry[0]) is not type(value):
                return value
            _apply_in_place(entry[0], value)
            self._resnap(mid, entry)
            return entry[0]
        snap = _snapshot(value, self.mirror_room) if _len(self.mirrors) < MIRROR_COUNT else None
        if snap is not None:
            self.mirrors[mid], self.mirror_ids[_id(value)] = [value, snap], mid
            self.mirror_room -= snap[2]
        return value

    def _mirror(self, obj):
        """The id of the mirror `obj` is on this side, or None."""
        mid = self.mirror_ids.get(_id(obj))
        return mid if mid is not None and self.mirrors[mid][0] is obj else None

    def _resnap(self, mid, entry):
        """Take mirror `mid`'s snapshot again (its `entry`): the new one, or None when it no
        longer fits the room (then it is forgotten)."""
        room = self.mirror_room + entry[1][2]
        snap = _snapshot(entry[0], room)
        if snap is None:
            self._forget(mid)
            return None
        entry[1] = snap
        self.mirror_room = room - snap[2]
        return snap

    def _forget(self, mid):
        entry = self.mirrors.pop(mid, None)
        if entry is not None:
            self.mirror_room += entry[1][2]
            if self.mirror_ids.get(_id(entry[0])) == mid:
                del self.mirror_ids[_id(entry[0])]

    def stand_in(self, lineage):
        """A local exception class for one of the other side's: its own name, under the same
        chain of that side's classes, down to the same built-in base (`except` needs a class)."""
        try:
            names, base = [str(n)[:80] for n in lineage[0]][:8], _EXCEPTIONS.get(str(lineage[1]), Exception)
        except Exception:
            return Exception
        key = (tuple(names), base)
        cls = self._stand_ins.get(key)
        if cls is None:
            parent = self.stand_in([names[1:], base.__name__]) if len(names) > 1 else base
            cls = self._stand_ins[key] = type(names[0] if names else base.__name__, (parent,), {})
        return cls

    def _err_of(self, exc, depth=0):
        """The error reply's form of `exc`: [built-in base, message, lineage, state]."""
        return [_base_name(exc), _message(exc), _lineage(type(exc)), self._exc_state(exc, depth)]

    def _exc_state(self, exc, depth=0):
        """[args, attributes, chain, text] of an exception raised here, as refs (the error
        reply's "state"), or None. Read through BaseException's own getters: no code of the
        exception's class runs (an `args` property of its own is not it), but for `text`.
        chain: [its __cause__, its __context__ (each an error reply's form, or None),
        __suppress_context__], followed _EXC_CHAIN levels deep. text: [str(exc), repr(exc)]
        where its class defines its own __str__ or __repr__ (the program's code, run here, in
        the program's process, where the test's str() would run it), else None."""
        try:
            args = _EXC_ARGS(exc)
            attrs = _EXC_DICT(exc)
            if type(args) is not tuple or _len(args) > _EXC_ITEMS or (attrs is not None and type(attrs) is not dict):
                return None
            own = [] if not attrs else [(k, v) for k, v in dict.items(attrs) if type(k) is str][:_EXC_ITEMS]
            state = [[self.ref(a) for a in args], [[k, self.ref(v)] for k, v in own]]
        except BaseException:
            return None
        state.append(self._exc_chain(exc, depth))
        state.append(self._exc_text(exc))
        return state

    def _exc_chain(self, exc, depth):
        if depth + 1 >= _EXC_CHAIN:
            return None
        try:
            cause, context = _EXC_CAUSE.__get__(exc), _EXC_CONTEXT.__get__(exc)
            return [
                None if cause is None else self._err_of(cause, depth + 1),
                None if context is None else self._err_of(context, depth + 1),
                _EXC_SUPPRESS.__get__(exc) is True,
            ]
        except BaseException:
            return None

    def _exc_text(self, exc):
        try:
            cls = type(exc)
            if not (_defines_own(cls, "__str__") or _defines_own(cls, "__repr__")):
                return None
            text, shown = str(exc), repr(exc)
            if not _isinstance(text, str) or not _isinstance(shown, str):
                return None
            # A subclass's own text (np.str_), as exact str: its class's code runs no more.
            return [self.ref(_STR_OF(text)), self.ref(_STR_OF(shown))]
        except BaseException:  # as str(e) in the test would raise: shown from its args instead
            return None

    def exception(self, err, depth=0):
        """The exception to raise here for the other side's error reply."""
        exc = _exception(err)
        state = self._state_of(err)
        same = type(exc) is _EXCEPTIONS.get(str(err[0]))  # not one made a RuntimeError
        if state is not None and same:
            try:  # its own args (`e.args[1]`, OSError's `e.errno`), as the other side made them
                exc = type(exc)(*state[0])
            except Exception:
                state = None
        try:
            lineage = err[2]
        except (IndexError, TypeError, KeyError):
            return exc
        if (
            type(lineage) is list
            and len(lineage) == 2
            and lineage[0]
            and issubclass(type(exc), Exception)
            and lineage[1] == type(exc).__name__
        ):
            try:
                exc = self.stand_in(lineage)(*exc.args)
            except Exception:
                pass
        if state is None:
            return exc
        _, attrs, chain, text = state
        if text is not None and same:
            exc = self._shown_as(exc, *text)
        held = _EXC_DICT(exc)
        if type(held) is dict:
            held.update(attrs)  # `e.needed` of the program's exception, its `__notes__`
        if chain is not None and same and depth + 1 < _EXC_CHAIN:
            try:
                cause, context = (
                    self.exception(e, depth + 1) if type(e) is list else None for e in (chain[0], chain[1])
                )
                _EXC_CAUSE.__set__(exc, cause)
                _EXC_CONTEXT.__set__(exc, context)
                _EXC_SUPPRESS.__set__(exc, chain[2] is True)  # after __cause__, which sets it
            except Exception:
                pass
        return exc

    def _shown_as(self, exc, text, shown):
        """`exc` again, of a subclass of its class whose str() and repr() are `text` and
        `shown` (what the program's own __str__ and __repr__ made); one subclass for each."""
        cls = type(exc)
        key = (cls, text, shown)
        sub = self._shown.get(key)
        if sub is None:
            body = {"__str__": lambda _self: text, "__repr__": lambda _self: shown, "__qualname__": cls.__qualname__}
            try:
                sub = type(cls.__name__, (cls,), body)
            except Exception:
                return exc
            if _len(text) + _len(shown) <= _SHOWN_TEXT:  # a long text lives with its exception only
                if _len(self._shown) >= _SHOWN_KEPT:
                    self._shown.clear()
                self._shown[key] = sub
        try:
            return sub(*exc.args)
        except Exception:
            return exc

    def _state_of(self, err):
        """The decoded [args, {attribute: value}, chain, text] of an error reply, or None
        (chain and text None where it has none; see _exc_state)."""
        try:
            state = err[3]
            if type(state) is not list or not 2 <= _len(state) <= 4:
                return None
            args = tuple(self.deref(a) for a in _list_of(state[0])[:_EXC_ITEMS])
            attrs = {}
            for pair in _list_of(state[1])[:_EXC_ITEMS]:
                if type(pair) is list and _len(pair) == 2 and type(pair[0]) is str:
                    if not pair[0].startswith("__") or pair[0] == "__notes__":
                        attrs[pair[0]] = self.deref(pair[1])
            chain = state[2] if _len(state) > 2 and type(state[2]) is list and _len(state[2]) == 3 else None
            text = None
            if _len(state) > 3 and type(state[3]) is list and _len(state[3]) == 2:
                text = [self.deref(t) for t in state[3]]
                if type(text[0]) is not str or type(text[1]) is not str:
                    text = None
            return [args, attrs, chain, text]
        except Exception:
            return None


def holds_opaque(encoded):
    """Does the codec's form `encoded` hold an opaque value anywhere (not a plain copy)?"""
    todo = [encoded]
    while todo:
        e = todo.pop()
        t = type(e)
        if t is list:
            if not codec.all_scalars(e):
                todo.extend(e)
        elif t is dict:
            if "X" in e or "XT" in e:
                return True
            todo.extend(e.values())
    return False


def _list_of(value):
    if type(value) is not list:
        raise TypeError("malformed reference from the other process")
    return value


# What a mirror's snapshot looks into, by the base type's own C-level reader (a program's list
# subclass or tuple of lists too: their items are the program's objects all the same).
_READERS = (
    # An OrderedDict's order is its own (move_to_end), not its dict's.
    (collections.OrderedDict, lambda o: [*collections.OrderedDict.keys(o), *collections.OrderedDict.values(o)]),
    (dict, lambda o: [*dict.keys(o), *dict.values(o)]),
    (list, lambda o: list(list.__iter__(o))),
    (tuple, lambda o: list(tuple.__iter__(o))),
    (set, lambda o: list(set.__iter__(o))),
    (frozenset, lambda o: list(frozenset.__iter__(o))),
    (collections.deque, lambda o: list(collections.deque.__iter__(o))),
)
_SHAPES = {}  # type -> (its reader or None, its _kind): filled as types are met


def _shape(t):
    """(How a snapshot reads a container of type `t`, or None for what is not one; its _kind),
    by its base type (type's own MRO getter: no metaclass code runs), cached."""
    found = _SHAPES.get(t)
    if found is None:
        mro = _type_mro(t) if type.__subclasscheck__(type, type(t)) else ()
        read = bytes if t is bytearray else next((r for base, r in _READERS if base in mro), None)
        kind = None
        if collections.OrderedDict not in mro:
            kind = next((k for base, k in _KIND_BASES if base in mro), None)
        found = (read, kind)
        if _len(_SHAPES) < 4096:
            _SHAPES[t] = found
    return found


def _reader(t):
    return _shape(t)[0]


def _items_of(obj):
    """A container's items as they are now, by its base type's own C-level code: a list of
    references (a dict's keys, then its values), or a bytearray's bytes."""
    return _reader(type(obj))(obj)


def _snapshot(obj, room):
    """[`obj`'s items (references: none of them can be freed and its id reused), [(position,
    item, its snapshot), ...] for the items that are containers, nodes], or None past `room`
    nodes. Comparing one with the container (`_unchanged`) costs a C-level pass, not an
    encoding."""
    items = _items_of(obj)
    nodes = CONTAINER_NODES + _len(items)  # a container's own cost to look at, in items
    if nodes > room:
        return None
    nested = []
    if type(items) is list:
        walked = {t for t in set(map(type, items)) if _reader(t) is not None}
        for i, x in itertools.compress(enumerate(items), map(walked.__contains__, map(type, items))) if walked else ():
            snap = _snapshot(x, room - nodes)
            if snap is None:
                return None
            nodes += snap[2]
            nested.append((i, x, snap))
    return [items, nested, nodes]


def _unchanged(obj, snap):
    """Does `obj` hold what its `snap` saw, the same objects in the same order, all the way down?
    (At every frame, for every mirror: an exact list or tuple is compared as it is, uncopied.)"""
    old, t = snap[0], type(obj)
    if t is list or t is tuple:
        if _len(obj) != _len(old) or not all(map(_is, obj, old)):
            return False
    else:
        items = _items_of(obj)
        if type(old) is bytes:
            return old == items
        if _len(items) != _len(old) or not all(map(_is, items, old)):
            return False
    for _, x, s in snap[1]:
        if not _unchanged(x, s):
            return False
    return True


def _kind(t):
    """How `_patch` and `_apply_patch` go through a container of type `t`, by its base type:
    "list", "deque", "tuple" (by position), "dict" (its values, keys unchanged), or None (all
    of it at once: a set, a bytearray, an OrderedDict, whose order is its own)."""
    return _shape(t)[1]


_KIND_BASES = ((dict, "dict"), (list, "list"), (collections.deque, "deque"), (tuple, "tuple"))


def _same_keys(items, old):
    half = _len(items) // 2
    return all(map(_is, items[:half], old[:half]))


def _interpreter_settings():
    """[recursion limit, int digits limit]: what test code sets in sys for the whole interpreter
    (`sys.setrecursionlimit(10**5)`, `sys.set_int_max_str_digits(0)`) before it calls a
    program that needs it."""
    digits = getattr(sys, "get_int_max_str_digits", None)
    return [sys.getrecursionlimit(), digits() if digits is not None else 0]


def _set_interpreter_settings(settings, lowest):
    """Apply the other side's `_interpreter_settings` here (a null is one it left; what this
    process cannot take, a limit out of range, stays as it was; a recursion limit no lower
    than `lowest`)."""
    try:
        limit, digits = settings
        if type(limit) is int:
            sys.setrecursionlimit(max(limit, lowest))
        if type(digits) is int and hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(digits)
    except (ValueError, TypeError, OverflowError, RecursionError):
        pass


def _reaches_held(obj, room):
    """Does `obj`, held by nobody else, hold a list, dict, set or deque that something outside
    it holds (`list(self.rows)`: a new list of the program's own rows)? Within `room` items."""
    inside = {}  # id -> references from obj's own containers
    found = []  # the mutable containers met, once each
    todo, seen = [obj], {_id(obj)}
    while todo:
        items = _items_of(todo.pop())
        if type(items) is not list:
            continue
        room -= _len(items)
        if room < 0:
            return False
        walked = {t for t in set(map(type, items)) if _reader(t) is not None}
        x = None
        for x in itertools.compress(items, map(walked.__contains__, map(type, items))) if walked else ():
            inside[_id(x)] = inside.get(_id(x), 0) + 1
            if _id(x) not in seen:
                seen.add(_id(x))
                todo.append(x)
                room -= CONTAINER_NODES  # each container's own (a fresh list of 3,000 rows stops here)
                if room < 0:
                    return False
                # A mutable one, or a tuple holding one (`("a", [])`): held, its lists are too.
                if _kind(type(x)) not in ("tuple", None) or type(x) in _IN_PLACE_TYPES or _holds_mutable(x):
                    found.append(x)
        del items, x
    # Each is referred to from inside obj, from `found`, and by the generator and the call.
    return any(_refcount(x) > inside[_id(x)] + 3 for x in found)


def _holds_mutable(obj):
    """Is `obj` a tuple with a list, dict, set or deque among its own items?"""
    if _kind(type(obj)) != "tuple":
        return False
    return any(map(_IN_PLACE_TYPES.__contains__, map(type, tuple.__iter__(obj))))


def _items_held(entry):
    """Is a mirrored tuple (`s, n = b.state()`) still seen through one of its mutable items
    that something holds besides the tuple and the mirror's snapshot?"""
    obj = entry[0]
    if _kind(type(obj)) != "tuple":
        return False
    count = {}
    for item in tuple.__iter__(obj):
        if type(item) in _IN_PLACE_TYPES or _kind(type(item)) in ("list", "dict", "deque"):
            count[_id(item)] = count.get(_id(item), 0) + 1
    item = None
    # Each such item: once per place in the tuple, in the snapshot's items and in its nested
    # list; and by the generator below and the call.
    return any(_refcount(x) > 3 * count[_id(x)] + 2 for x in tuple.__iter__(obj) if _id(x) in count)


def _held(holder):
    """Is `holder[0]` referred to by anything but `holder` (and this call's argument)?"""
    return _refcount(holder[0]) > 2


def _remember_copies(value):
    """Record every container in `value` (decoded here: a copy) in COPIES."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, _CONTAINERS) and id(v) not in COPIES:
            COPIES.add(id(v))
            if isinstance(v, dict):
                todo.extend(v.keys())
                todo.extend(v.values())
            elif not isinstance(v, bytearray) and not codec.all_scalars(v):  # a flat list: one pass
                todo.extend(v)


def _run_to_end(awaitable):
    """`awaitable`'s result, run on a new event loop (the program's process runs none while it
    answers requests). asyncio is loaded by name, as the zygote loads its preimports."""
    asyncio = sys.modules.get("asyncio") or __import__("asyncio")
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()


def number_array(obj, kinds):
    """Is `obj` an array of this process's numpy whose dtype is of `kinds` ("biuf": booleans,
    integers and floats; "c": complex too)?"""
    numpy = sys.modules.get("numpy")
    return numpy is not None and type(obj) is numpy.ndarray and obj.dtype.kind in kinds


# The dtypes an array may cross with: booleans and fixed-size numbers, in any byte order.
_DTYPE = re.compile(r"[<>|=]?(?:b1|\?|[iu][1248]|f[248])\Z")


def _array(parts):
    """The array a reference's "nd" parts [dtype, values, shape] describe, made by this
    process's numpy (loaded by name as the zygote loads its preimports: this module itself
    needs the standard library only). TypeError for anything else than such an array."""
    parts = _list_of(parts)
    if _len(parts) != 3 or type(parts[0]) is not str or not _DTYPE.match(parts[0]) or type(parts[2]) is not list:
        raise TypeError("malformed array from the other process")
    dtype, values, shape = parts
    if not all(type(n) is int and 0 <= n for n in shape) or _len(shape) > 32:
        raise TypeError("malformed array from the other process")
    numpy = sys.modules.get("numpy") or __import__("numpy")
    try:
        return numpy.array(codec.decode(values, 0, VALUE_NODES), dtype=dtype).reshape(shape)
    except (ValueError, OverflowError) as exc:
        raise TypeError("malformed array from the other process: %s" % (exc,)) from None


_MISSING = object()
_VALUE_BASES = tuple(codec.REDUCIBLE)  # compared by identity: no class's __hash__ runs


def _enter(target):
    """`with obj:` in test code: the program's own __enter__ (looked up on the type, as `with` does)."""
    return type(target).__enter__(target)


def _exit(target, kind, message):
    """The end of `with obj:`: the program's own __exit__, told of the block's exception (rebuilt
    as its built-in base class, `kind`, without its message; None if it ended normally). Its answer is not asked: an
    exception in the test's block (a failed assert, the program's own error) is never the
    program's to swallow."""
    exc = None if kind is None else _EXCEPTIONS.get(kind, Exception)(message)
    type(target).__exit__(target, None if exc is None else type(exc), exc, None)


def _copy(target):
    import copy

    return copy.copy(target)


def _deepcopy(target):
    import copy

    return copy.deepcopy(target)


def _number(kind):
    def convert(target):  # int(x), float(x), operator.index(x): exactly that built-in type
        value = kind(target)
        if type(value) is not (int if kind is operator.index else kind):
            raise TypeError("%s returned a %s" % (kind.__name__, type(value).__name__))
        return value

    return convert


# The operations test code may apply to the program's objects (name: operands, function), each
# run in the program's process by the program's own methods.
_OPERATORS = {
    name: (2, getattr(operator, name))
    for name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift", "and_")
    + ("xor", "or_", "iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "lt", "le", "gt", "ge", "delitem")
}
_OPERATORS.update({name: (1, getattr(operator, name)) for name in ("neg", "pos", "invert", "abs")})
_OPERATORS.update(
    {
        "setitem": (3, operator.setitem),
        "reversed": (1, reversed),
        "index": (1, _number(operator.index)),
        "int": (1, _number(int)),
        "float": (1, _number(float)),
        "enter": (1, _enter),
        "exit": (3, _exit),
        "copy": (1, _copy),
        "deepcopy": (1, _deepcopy),
        "vars": (1, vars),
        "issubclass": (2, issubclass),
        "type": (1, type),
        "format": (2, format),
    }
)
# The types of a class object (`type(Color)`): what an attribute of the test reads from a class.
CLASS_TYPES = frozenset({"type", "EnumType", "EnumMeta", "ABCMeta"})


def _class_entry(cls, name):
    """A class's attribute `name` as its own dicts (its MRO's) hold it, when that is a plain
    value, not a descriptor (an Enum member, a constant): read through type's getters, so no
    code of the program's (a metaclass's __getattribute__) runs or learns the name. Else
    _MISSING."""
    for k in _type_mro(cls):
        entries = _type_dict(k)
        if name in entries:
            value = entries[name]
            if any("__get__" in _type_dict(c) for c in _type_mro(type(value))):
                return _MISSING
            return value
    return _MISSING


def _same_data(a, b):
    """Are `a` and `b` the same plain data, item by item, types and order included (1 is not
    1.0 nor True, -0.0 not 0.0)? No code of either's runs; anything the codec does not carry
    as a value (a test's own instance) is never the same."""
    ea, eb = codec.encode(a, VALUE_NODES), codec.encode(b, VALUE_NODES)
    if holds_opaque(ea) or holds_opaque(eb):
        return False
    try:
        return frames.dumps(ea) == frames.dumps(eb)
    except (TypeError, ValueError):
        return False


def _apply_in_place(target, value, changed=False):
    """The callee may have changed an argument in place: make the caller's object match. One
    it left as it was keeps its own items (the test's inner lists, not copies of them), unless
    it is known to have `changed`."""
    t = type(target)
    if t is not type(value) or t not in _IN_PLACE:
        return
    if not changed and _same_data(target, value):
        return
    if t is list or t is bytearray:
        target[:] = value
    elif t is collections.deque:
        target.clear()
        target.extend(value)
    else:  # a dict (of any of its kinds: its factory and order kept) or a set
        target.clear()
        target.update(value)


_EXC_ARGS = BaseException.__dict__["args"].__get__
_EXC_DICT = BaseException.__dict__["__dict__"].__get__
_EXC_ITEMS = 16  # args and attributes an exception carries across, at most
_EXC_CAUSE = BaseException.__dict__["__cause__"]
_EXC_CONTEXT = BaseException.__dict__["__context__"]
_EXC_SUPPRESS = BaseException.__dict__["__suppress_context__"]
_EXC_CHAIN = 4  # levels of __cause__ / __context__ an exception carries across
_SHOWN_KEPT = 256  # subclasses kept for exceptions with their own str() (_shown_as)
_SHOWN_TEXT = 4096  # ... each only if its str() and repr() are this short
_STR_OF = str.__str__  # a str subclass's text as an exact str, without its class's code
_TYPE_DICT = type.__dict__["__dict__"].__get__
_TYPE_NAME = type.__dict__["__name__"].__get__


def _defines_own(cls, name):
    """Does `cls` get `name` from a class other than a built-in exception or object (read
    from the classes' own dicts, without running their code)?"""
    try:
        for c in _type_mro(cls):
            if name in _TYPE_DICT(c):
                return c is not object and _EXCEPTIONS.get(_TYPE_NAME(c)) is not c
    except BaseException:
        pass
    return False


def _base_name(exc):
    """The first built-in exception class in `exc`'s MRO (read without running its code)."""
    try:
        for cls in _type_mro(type(exc)):
            if _EXCEPTIONS.get(type.__dict__["__name__"].__get__(cls)) is cls:
                return cls.__name__
    except BaseException:
        pass
    return "Exception"


def _lineage(cls):
    """[[names of the non-built-in classes from `cls` up], name of the first built-in base]."""
    names = []
    try:
        for c in _type_mro(cls):
            name = type.__dict__["__name__"].__get__(c)
            if _EXCEPTIONS.get(name) is c:
                return [names[:8], name]
            if issubclass(c, BaseException):
                names.append(name)
    except BaseException:
        pass
    return [[], "Exception"]


def _message(exc):
    """str(exc) as BaseException makes it, without running code the exception's class defines."""
    try:
        return BaseException.__str__(exc)[:MESSAGE_MAX]
    except BaseException:
        return ""


def _exception(err):
    try:
        name, message = str(err[0]), str(err[1])[:MESSAGE_MAX]
    except Exception:
        name, message = "Exception", "malformed error from the other process"
    cls = _EXCEPTIONS.get(name, Exception)
    if cls in (KeyboardInterrupt, GeneratorExit, StopIteration, StopAsyncIteration):
        # A StopIteration from the other side would silently end a loop over map(...) here.
        cls = RuntimeError
        message = "%s from the other process: %s" % (name, message)
    if cls is SystemExit:
        return OtherSideExit(message)  # never taken for the test's own exit (tester.py)
    try:
        return cls(message)
    except Exception:
        return RuntimeError(message)


class OtherSideExit(SystemExit):
    """SystemExit raised by the other process (the program called sys.exit in a call the test
    made): a test may catch it as a SystemExit, but it is not the test ending itself."""
