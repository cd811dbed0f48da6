"""Program objects in a snippet's comparisons, in the test process (tester.py).

A test that calls a program class with data of its own (`Point(1, 2)`, `[Interval(1, 6)]`)
states an expected value; an object the program's code returns is its answer. The test process
judges a comparison between them as the host judges a one-line assert (judging/asserts.py):
the answer as its Record (codec.py: its class, its attributes and its `__init__`'s binding,
encoded in the program's process), the expected value as that call (codec.Constructed),
never by the program's `__eq__`:

- a call of a program class inside an assert's comparison is not made at all: it is a
  Constructed here (`make`, called from runner.strict), so that expected value never reaches
  the program's process, and no program code learns it before its answer is read;
- an object the test makes by such a call in a statement of its own (`expected = Point(4,
  2)`) is made in the program's process, as the test asks, and keeps its call (rpc.Remote's
  `_made`) until the test uses it (a method, an attribute, an argument of a call): from then
  on it is the program's object like any other.

Two expected values (`Point(1, 2) == Point(1, 2)`, the test of a class's own `__eq__`) or two
answers are not compared: only the program's `__eq__` could say, and it decides nothing here.
Standard library only.
"""

from . import codec, rpc

_Constructed = codec.Constructed
_Remote = rpc.Remote
_CLASS_TYPES = rpc.CLASS_TYPES
_VALUE_NODES = rpc.VALUE_NODES
_isinstance, _type, _len = isinstance, type, len


class _NotData(Exception):
    """An argument of a call is not the test's own data (a program object it did not make)."""


def construction(cls, written, args, kwargs):
    """The test's call `cls(*args, **kwargs)` as a codec.Constructed, when `cls` is a program
    class a program global holds (the one the test names as `written`, when given: a class under
    two names is made under the one its records carry only so) and every argument is the test's
    own data, or such a call; else None."""
    if not _isinstance(cls, _Remote) or cls._t not in _CLASS_TYPES or cls._ep.ops is not rpc.TEST_OPS:
        return None
    if cls._values:  # a namedtuple's, an IntEnum's: made, its value crosses as a copy
        return None
    names = cls._ep.class_names.get(cls._h)
    if not names:
        return None
    if written is not None and written in names:
        name = written
    elif _len(names) == 1:  # `P = Point` in the test: the class's one global name
        name = names[0]
    else:
        return None
    try:
        made = _Constructed(name, [_expected(a) for a in args], {k: _expected(v) for k, v in kwargs.items()})
    except _NotData:
        return None
    # The latest object the test made in the program's process that this call holds
    # (`Segment(a, b)`, a and b made by statements): the call is as late as it.
    latest = max([_latest(x) for x in _parts((args, kwargs))], default=-1)
    if latest >= 0:
        _keep(_LATEST, made, latest)
    return made


_LATEST = {}  # id of a Constructed -> (it, the serial of the latest made object it holds)


def _latest(x):
    """The serial of the object the test made that `x` (a Remote or a Constructed) is or holds;
    -1 for none."""
    if _type(x) is _Constructed:
        kept = _LATEST.get(id(x))
        return kept[1] if kept is not None and kept[0] is x else -1
    return x._serial if x._made is not None else -1


def make(written, fn, args, kwargs):
    """A call in an assert's comparison (runner.StrictAsserts): a program class's, with the
    test's data, is that call on this side; any other is made, its arguments that were such
    calls made first (`Wrapper(Point(1, 2))`, a class of the test's, gets a program object) -
    but for the genuine built-ins that only hold or count them (`set([Point(1, 2)])`)."""
    made = construction(fn, written, args, kwargs)
    if made is not None:
        return _kept(made, fn, args, kwargs)
    if fn is _genuine_type and _len(args) == 1 and not kwargs:
        value = _real(args[0])
        if _type(value) is _Remote:  # `type(f()) is P`: its real class, from the program's process
            return value._protocol("type", value)
        return _genuine_type(value)
    if _dict_get(_HOLDERS, id(fn)) is fn and "key" not in kwargs:  # a key function reads them: made
        # The calls inside a display it holds stay the test's; one it is given itself
        # (`len(Stack())`, `list(Deck(3))`) is the program's object it walks: made.
        return fn(*[_real(a) if _type(a) is _Constructed else a for a in args], **kwargs)
    return fn(*[_real(a) for a in args], **{k: _real(v) for k, v in kwargs.items()})


# Built-ins a test wraps its expected objects in: they hold, count or walk them (the test
# process's genuine ones, by identity), never hand them to the program. (`sorted`, `min` and
# `max` order them: by the program's own `__lt__`, on objects made in its process.)
_HOLDERS = {id(f): f for f in (set, frozenset, list, tuple, dict, len, reversed, iter, enumerate, zip)}
_dict_get = dict.get
_genuine_type = type


class Unordered(Exception):
    """A comparison of a program's answer with an object the test made later in the program's
    process, when the answer's state from before that is not known."""


def snapshot(ep):
    """Before the test calls a program class: the records of the answers handed to the test
    since the last such call (newest first, at most SNAPSHOT_MAX), as they are before the
    program's code sees the call's values (runner: it may change them to match; a metaclass
    that copies each new instance into the last answer)."""
    fresh = [
        x
        for x in ep.fresh
        if _type(x) is _Remote and x._made is None and not x._entry and x._snap is None and x._t != "module"
    ][-SNAPSHOT_MAX:]
    ep.fresh.clear()
    if not fresh:
        return
    try:
        records = ep.records(fresh)
    except Exception:
        records = [rpc.LOST] * _len(fresh)
    for x, r in zip(fresh, records):
        x._snap = r


SNAPSHOT_MAX = 256


def sides(left, right):
    """`left` and `right` as a comparison on the trusted side sees them (`resolved`), each
    answer with a snapshot (the test has not used it since) as that snapshot; Unordered when an
    answer that came before an object the test made has none (the test used it since, or it
    came with too many others)."""
    latest, answers = -1, []
    for x in _parts((left, right)):
        serial = _latest(x)
        if serial >= 0:
            latest = max(latest, serial)
        elif _type(x) is not _Constructed and not x._entry:
            answers.append(x)
    use = {}
    for x in answers:
        if x._snap is not None and x._snap is not rpc.LOST:
            use[id(x)] = x._snap  # the program's code the test's later calls ran changed nothing
        elif x._serial < latest:
            raise Unordered("an object the test made of a program class after the program's answer does not state it")
    return resolved(left, use), resolved(right, use)


def _parts(value):
    """The Remotes and the Constructed calls in `value` (in its lists, tuples, dicts and sets)."""
    todo, seen = [value], 0
    while todo and seen < _VALUE_NODES:
        x = todo.pop()
        seen += 1
        t = _type(x)
        if t is _Constructed or _isinstance(x, _Remote):
            yield x
        elif t is list or t is tuple or t is set or t is frozenset:
            todo.extend(x)
        elif t is dict:
            todo.extend(x.keys())
            todo.extend(x.values())


def _remotes(value):
    """The Remotes in `value` (in its lists, tuples, dicts and sets)."""
    return (x for x in _parts(value) if _type(x) is not _Constructed)


def resolved(value, known=None):
    """`value` as a comparison on the trusted side sees it: plain data as its trusted copy, an
    object the test made of a program class as that call, any other program object as the
    program's process encodes it as a probe's value (a Record, or opaque), all of them in one
    request - those in `known` (id -> record) as given there."""
    known = known or {}
    asked = {}
    for x in _remotes(value):
        if x._made is None and not x._entry and id(x) not in asked and id(x) not in known:
            asked[id(x)] = x
    if asked:
        remotes = list(asked.values())
        found = {id(x): r for x, r in zip(remotes, remotes[0]._ep.records(remotes))}
    else:
        found = {}
    found.update(known)
    return _walk(value, lambda x: _answer(x, found), 0)


def involves(value):
    """Does `value` hold a program object or an expected call (in its lists, tuples, dicts and
    sets)? Only such a comparison is judged by `resolved`."""
    return next(_parts(value), None) is not None


class _Entry:
    """An object the test read as a program class's attribute (an Enum member, `Color.RED`),
    inside a value: it equals that object itself and no other (one proxy per program object),
    as the member equals itself in a one-line assert (runner.strict)."""

    __slots__ = ("remote",)

    def __init__(self, remote):
        self.remote = remote

    def __eq__(self, other):
        if _type(other) is _Entry:
            return self.remote is other.remote
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash(id(self.remote))

    def __repr__(self):
        return "<%s from the program>" % self.remote._t


def _answer(x, found):
    if _type(x) is _Constructed:
        return x
    if x._made is not None:
        return x._made
    if x._entry:
        return _Entry(x)
    return found[id(x)]


def _given(x):
    if _type(x) is _Constructed:
        return x
    if x._made is None:
        raise _NotData
    return x._made


def _expected(x):
    return _walk(x, _given, 0)


def _walk(x, leaf, depth):
    """`x` rebuilt for the trusted side: `leaf` of each Remote and Constructed in it, inside
    its lists, tuples, dicts and sets; the rest as the codec's trusted copy."""
    t = _type(x)
    if t is _Constructed or _isinstance(x, _Remote):
        return leaf(x)
    encoded = codec.encode(x, _VALUE_NODES)
    if rpc.holds_opaque(encoded) and depth < codec.MAX_DEPTH:
        if t is list or t is tuple:
            items = [_walk(i, leaf, depth + 1) for i in x]
            return items if t is list else tuple(items)
        if t is dict:
            return {_walk(k, leaf, depth + 1): _walk(v, leaf, depth + 1) for k, v in x.items()}
        if t is set or t is frozenset:
            return t(_walk(i, leaf, depth + 1) for i in x)
    if leaf is _given and rpc.holds_opaque(encoded):
        raise _NotData
    return codec.decode(encoded, 0, _VALUE_NODES)


_REAL = {}  # id of a Constructed `make` returned -> (it, the program class, args, kwargs)
_REAL_MAX = 4096  # the latest: one is made by the call whose argument it is, at once


def forget():
    """An assert is over: the calls it kept are no longer arguments of anything."""
    _REAL.clear()


def _kept(made, fn, args, kwargs):
    _keep(_REAL, made, fn, args, kwargs)
    return made


def _keep(table, made, *facts):
    """Keep `facts` of the Constructed `made` in `table` by its id (with it, so the id is not
    reused while kept), the latest _REAL_MAX only."""
    table[id(made)] = (made, *facts)
    if _len(table) > _REAL_MAX:
        del table[next(iter(table))]


def _real(x):
    """`x` with each call `make` kept as a Constructed in it (in its lists, tuples, dicts and
    sets) made now by the program's class: they are arguments of a call that is made."""
    if not _REAL:
        return x
    t = _type(x)
    if t is _Constructed:
        kept = _REAL.get(id(x))
        if kept is None or kept[0] is not x:
            return x
        _, fn, args, kwargs = kept
        return fn(*[_real(a) for a in args], **{k: _real(v) for k, v in kwargs.items()})
    if (t is list or t is tuple or t is dict or t is set or t is frozenset) and involves(x):
        if t is dict:
            return {_real(k): _real(v) for k, v in x.items()}
        items = [_real(i) for i in x]
        return items if t is list else t(items)
    return x
