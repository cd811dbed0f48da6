"""Safe value codec: the only way a program's values leave the sandbox.

Runs on both sides. Inside the child, `encode` turns a value produced by
untrusted code into JSON-able data *without calling any method the program
could have defined*: dispatch is on the exact built-in type, subclasses of
built-ins are reduced to their underlying built-in value through the base
type's own C-level methods, and anything else becomes an opaque marker that
never compares equal. On the trusted side, `decode` rebuilds plain built-in
objects, so `==` there is CPython's own comparison of built-ins.

Standard library only (this file is shipped into the sandbox).

Wire shape (JSON):
    null, true/false, numbers, strings, lists  -> themselves
    {"I": hex}        int too large for a plain JSON number
    {"F": "nan"|"inf"|"-inf"}
    {"T": [..]} tuple   {"S": [..]} set   {"FS": [..]} frozenset
    {"D": [[k, v], ..]} dict (keys in insertion order)
    {"B": hex} bytes    {"BA": hex} bytearray   {"C": [re, im]} complex
    {"Q": [num, den]} fractions.Fraction   {"DEC": str} decimal.Decimal
    {"OD": [[k, v], ..]} collections.OrderedDict   {"CT": [[k, v], ..]} Counter
    {"DD": [factory, [[k, v], ..]]} defaultdict (factory: a built-in type's name or null)
    {"DQ": [[..], maxlen]} deque
    {"DK": [..]} {"DV": [..]} {"DI": [[k, v], ..]}  a dict's keys(), values() and items() views
    {"RG": [start, stop, step]} range
    {"DT": ["date", y, m, d]}, {"DT": ["datetime", y, m, d, H, M, S, us, fold, tz]},
    {"DT": ["time", H, M, S, us, fold, tz]}, {"DT": ["timedelta", days, seconds, us]},
    {"DT": ["timezone", tz]}  the datetime module's values (tz: null, or [offset seconds,
                      offset us, name or null for the offset's default] of a
                      datetime.timezone; another tzinfo is opaque)
    {"R": [type name, value, fields?, true?]}  an instance of a program's subclass of one of
                      the types above, reduced to that type's value (its real type is not
                      the built-in: decoded as a trusted stand-in subclass, see `reduced`);
                      a namedtuple's with its field names (or null), which a test's call
                      with keywords binds to (`P(x=1, y=2)`); true: (a probe's value) its
                      class is the one the program's global of that name holds
    {"OB": [type name, [[attribute, value], ..], [[parameter, ..], [[parameter, default], ..],
            [parameter left out, ..], [[parameter, attribute], ..], [[attribute, constant], ..]]?]}
                      (a probe's value, `encode(records=namespace)`) an instance of the program
                      class its global of that name holds, with its own __eq__: a Record, with
                      its plain __init__'s parameters when it has one (their defaults, the
                      dataclass fields its __eq__ leaves out, where __init__ stores each as
                      given, the constants it sets)
    {"X": "type name"}  opaque: cannot be compared on the trusted side
    {"XT": "Match"}   opaque, but true: a genuine re.Match

numpy's scalars (np.int64, np.bool_, np.float32...), once numpy is imported (by the zygote,
or by the program: `bind_numpy` then binds its types at the first of its values), cross as the
Python scalar their own C-level `item()` gives, as `==` in the program's process would see them
(np.int64(3) == 3): ints and floats as a stand-in of int or float ("R"), bools and complex
numbers as themselves, and so does a 0-d array of a number (np.asarray(3.0)). Other arrays
stay opaque here: `array == list` is an array there, whose truth raises, not a comparison an
assert could pass (the test process gets them as arrays: rpc.py).
"""

import builtins as _builtins
import collections as _collections
import dataclasses as _dataclasses
import datetime as _dt
import dis as _dis
import math as _math
import operator as _operator
import re as _re
from itertools import repeat as _repeat

# Values, items and keys one encoded value may hold: as many as the largest literal a test
# may state (a 1 MiB `[0,0,...]`); the trusted side refuses to judge a program's value against
# a value of the test's own that is larger still (`exceeds`).
MAX_ENCODED_NODES = 1 << 19
MAX_DEPTH = 200  # how deep they may nest (a trie of 200-letter words; JSON holds 3 levels per dict)
_BIG = 1 << 52

_type = type
_int_int = int.__int__
_float_float = float.__float__
_str_str = str.__str__
_list_iter = list.__iter__
_tuple_iter = tuple.__iter__
_set_iter = set.__iter__
_frozenset_iter = frozenset.__iter__
_dict_items = dict.items
_bytes_hex = bytes.hex
_bytearray_hex = bytearray.hex
_isfinite = _math.isfinite
_float_repr = float.__repr__
_is = _operator.is_
_all, _any, _map, _min, _max, _len, _list, _id = all, any, map, min, max, len, list, id
_LEAVES = frozenset({int, float, str, bool, type(None), bytes, complex})

try:  # optional stdlib numeric types
    from fractions import Fraction as _Fraction
except Exception:  # pragma: no cover
    _Fraction = None
try:
    from decimal import Decimal as _Decimal

    _decimal_str = _Decimal.__str__
except Exception:  # pragma: no cover
    _Decimal = None


_date, _datetime, _time, _timedelta, _timezone = _dt.date, _dt.datetime, _dt.time, _dt.timedelta, _dt.timezone
# Read through the types' own getters (C-level: a program cannot change them, and these
# exact types are never a program's class).
_DT_FIELDS = {
    _date: ("date", ("year", "month", "day")),
    _datetime: ("datetime", ("year", "month", "day", "hour", "minute", "second", "microsecond", "fold")),
    _time: ("time", ("hour", "minute", "second", "microsecond", "fold")),
    _timedelta: ("timedelta", ("days", "seconds", "microseconds")),
}
_DT_GET = {t: tuple(getattr(t, f).__get__ for f in fields) for t, (_, fields) in _DT_FIELDS.items()}
_DT_TYPES = {name: t for t, (name, _) in _DT_FIELDS.items()}
_tzinfo_of = {_datetime: _datetime.tzinfo.__get__, _time: _time.tzinfo.__get__}
_tz_offset, _tz_name = _timezone.utcoffset, _timezone.tzname


def _datetime_value(t, v):
    """A datetime module value's wire form (its `DT` body), or None: one with a tzinfo of a
    program's own class (its utcoffset is the program's code)."""
    name, _ = _DT_FIELDS[t]
    body = [name, *(get(v) for get in _DT_GET[t])]
    if t in _tzinfo_of:
        tz = _tzinfo_of[t](v)
        if tz is not None:
            if _type(tz) is not _timezone:
                return None
            tz = _zone_wire(tz)
        body.append(tz)
    return body


def _zone_wire(tz):
    """A datetime.timezone's wire form: [offset seconds, offset us, its name, or null when it
    is the default one for that offset (so that UTC comes back as timezone.utc itself)]."""
    offset = _tz_offset(tz, None)
    days, seconds, micros = (get(offset) for get in _DT_GET[_timedelta])
    name = _tz_name(tz, None)
    return [days * 86400 + seconds, micros, None if name == _tz_name(_timezone(offset), None) else name]


_Match = type(_re.match("", ""))
_OrderedDict, _Counter = _collections.OrderedDict, _collections.Counter
_dict_keys, _dict_values, _dict_itemview = type({}.keys()), type({}.values()), type({}.items())
_odict_items = _OrderedDict.items
_defaultdict, _deque = _collections.defaultdict, _collections.deque
_deque_iter = _deque.__iter__
_deque_maxlen = _deque.maxlen.__get__
_defaultdict_factory = _defaultdict.default_factory.__get__
# Containers a program may change in place: met twice in one value, they cross as one object
# (encode's `shared`).
_SHAREABLE = frozenset({list, dict, set, bytearray, _deque, _OrderedDict, _Counter, _defaultdict})
# A defaultdict's factory crosses by name when it is one of these (else as null).
_FACTORIES = {
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
    set: "set",
    tuple: "tuple",
    bool: "bool",
    frozenset: "frozenset",
}


class _TooLarge(Exception):
    pass


def _is_sub(cls, base):
    # type.__mro__ is fixed at class creation; compared by identity (`in` would call a
    # metaclass's __eq__), so no user hook runs here.
    try:
        return _any(_map(_is, _type.__dict__["__mro__"].__get__(cls), _repeat(base)))
    except Exception:
        return False


def _float(v):
    if _isfinite(v):
        return v
    return {"F": _float_repr(v)}


def _int(v):
    if -_BIG < v < _BIG:
        return v
    return {"I": int.__format__(v, "x")}


def _flat(items):
    """A copy of `items` (an exact list or tuple) when every item is its own encoding - all
    exact str, all exact int within JSON's exact range, all exact finite float, or all exact
    bool - else None. The copy is taken first and only it is checked (a thread of the program
    cannot swap an item in between); every check is one C-level pass (type identity, int and
    float compares), so a large value costs little and nothing the program defined runs."""
    if items:  # a pre-check (nested values are never copied); the copy decides
        t = _type(items[0])
        if not (t is str or t is int or t is float or t is bool):
            return None
    snap = _list(items)
    if not snap:
        return snap
    first = _type(snap[0])
    if not (first is str or first is int or first is float or first is bool) or not _all(
        _map(_is, _map(_type, snap), _repeat(first))
    ):
        return None
    if first is int and not (-_BIG < _min(snap) and _max(snap) < _BIG):
        return None
    if first is float and not _all(_map(_isfinite, snap)):
        return None
    return snap


_NP_SCALARS = frozenset()  # numpy's scalar types, exactly (bind_numpy)
_np_item = None
_NP_ARRAY = None  # (ndarray, its ndim getter, its dtype getter, its item): a 0-d array's value


def bind_numpy():
    """Bind numpy's scalar types, in the zygote once its imports are done (children inherit
    them; a program's later changes to numpy's module cannot alter them)."""
    global _NP_SCALARS, _np_item, _NP_ARRAY
    import sys

    np = sys.modules.get("numpy")
    generic = getattr(np, "generic", None) if np is not None else None
    if generic is None:
        return
    found, todo = set(), [generic]
    while todo:
        t = todo.pop()
        for sub in t.__subclasses__():
            if sub.__module__ == "numpy" and sub not in found:
                found.add(sub)
                todo.append(sub)
    _NP_SCALARS = frozenset(found)
    _np_item = generic.item
    nd = getattr(np, "ndarray", None)
    if _type(nd) is _type and _type.__dict__["__module__"].__get__(nd) == "numpy":
        _NP_ARRAY = (nd, nd.__dict__["ndim"].__get__, nd.__dict__["dtype"].__get__, nd.item)


_enumerate = enumerate
_dict_get = dict.get
_type_dict = _type.__dict__["__dict__"].__get__  # a class's own namespace, read by type's getter
_type_mro = _type.__dict__["__mro__"].__get__
_getset = _type(_type.__dict__["__dict__"])
_object_eq = object.__eq__


class _Slotted:
    __slots__ = ("x",)


_member = _type(_Slotted.__dict__["x"])  # a slot's descriptor type (member_descriptor)
_proxy_items = _type(_Slotted.__dict__).items  # a class namespace's (a mappingproxy's) items
_Field = _dataclasses.Field
_field_factory = _Field.__dict__["default_factory"].__get__
_field_kind = _Field.__dict__["_field_type"].__get__
_FIELD = _dataclasses._FIELD
_EMPTY_FACTORIES = frozenset({list, dict, set, frozenset, tuple, str, bytes, int, float, bool, complex})


def _record_fields(t, v):
    """The (name, value) pairs a Record of `v` holds, or None: `v`'s class (or a base other
    than object) defines `__eq__`, and `v` keeps its attributes in a plain instance dict (the
    built-in one, not a property of the program's) or in slots. A dataclass's fields that take
    part in its comparisons, in their order, as its instance holds them; another class's
    attributes in the order it set them, then its slots'. Read through type's own getters, the
    dict's and the slots' descriptors: no code of the program's runs."""
    mro = _type_mro(t)
    eq = dict_slot = fields = init = None
    slots = []
    intercepted = set()
    # What __init__ stores stays as it stored it (see _signature); not where the class's
    # metaclass has a __call__ of its own (it may call __init__ with other arguments).
    verbatim = not _any(k is not _type and "__call__" in _type_dict(k) for k in _type_mro(_type(t)))
    for k in mro:
        ns = _type_dict(k)
        if k is not object and ("__new__" in ns or "__post_init__" in ns or "__setattr__" in ns):
            frozen = "__dataclass_params__" in ns and "__setattr__" in ns and "__post_init__" not in ns
            verbatim = verbatim and frozen and "__new__" not in ns  # a frozen dataclass's own __setattr__
        if eq is None and "__eq__" in ns:
            eq = ns["__eq__"]
        if dict_slot is None and "__dict__" in ns:
            dict_slot = ns["__dict__"]
        if fields is None and "__dataclass_fields__" in ns:
            fields = ns["__dataclass_fields__"]
        if init is None and "__init__" in ns:
            init = ns["__init__"]
        if "__slots__" in ns:
            slots += [(n, d) for n, d in _proxy_items(ns) if _type(d) is _member and _type(n) is str]
        # A class attribute that intercepts `self.x = ...` (a property with a setter, any object
        # whose type defines __set__): what `self.x = x` keeps is that code's to choose.
        intercepted.update(n for n, d in _proxy_items(ns) if _type(n) is str and _intercepts(d))
    if eq is None or eq is _object_eq:
        return None
    if _type(eq) is _function and not _equals_itself(eq, v):
        # `def __eq__(s, o): s.x == o.x` (no return), or one that is always False: Python's
        # `==` with such a class is never true, so no call of the test's equals the object.
        return ()
    if dict_slot is None:
        held = {}
    elif _type(dict_slot) is _getset:
        held = dict_slot.__get__(v)
        if _type(held) is not dict:
            return None
    else:
        return None  # a __dict__ of the program's making
    held = {k: x for k, x in _dict_items(held) if _type(k) is str}
    for n, d in slots:
        if n not in held:
            try:
                held[n] = d.__get__(v)
            except AttributeError:  # a slot never set
                pass
    if not held:
        return None  # nothing to tell one object from another: opaque
    signature = _signature(init, verbatim)
    if signature is not None and intercepted:
        names, defaults, ignored, stored, fixed = signature
        stored = {p: at for p, at in _dict_items(stored) if at not in intercepted}
        fixed = {at: x for at, x in _dict_items(fixed) if at not in intercepted}
        signature = (names, defaults, ignored, stored, fixed)
    # A dataclass's fields count only where its __eq__ is the one dataclasses generated: the
    # names that code compares, not the Field flags (the program can change compare= after
    # the class is made, or hang a __dataclass_fields__ of its own on any class). Otherwise the
    # class is read as any other: every attribute it holds.
    compared = _generated_eq_names(eq, fields) if _type(fields) is dict else None
    if compared is not None:
        pairs = [(k, held[k]) for k in compared if k in held]
        if signature is not None:
            names, defaults, _, stored, fixed = signature
            # Its __eq__ leaves out compare=False fields: so does a call's binding.
            plain = {k for k, f in _dict_items(fields) if _type(k) is str and _type(f) is _Field}
            ignored = [k for k in names if k in plain and k not in compared]
            signature = (names, {**defaults, **_factory_defaults(fields, defaults)}, ignored, stored, fixed)
    else:
        pairs = _list(_dict_items(held))
    return pairs, signature


_REFLEXIVE = {}  # __eq__ function -> what it said of the first object it was asked about


def _equals_itself(eq, v):
    """Does the class's own `__eq__` say an object equals itself? The one call of the
    program's code the codec makes, in the program's process, once per __eq__ (a linked list of
    10,000 nodes asks it of its head only: each node again would be quadratic, and a recursive
    `__eq__` over the whole list): anything it returns but True is a no; an error in it (a
    recursion past the limit on a long list) says nothing, and the record stands."""
    known = _REFLEXIVE.get(eq)
    if known is not None:
        return known
    try:
        said = eq(v, v)
        if not _NP_SCALARS and _type.__dict__["__module__"].__get__(_type(said)) == "numpy":
            bind_numpy()  # the program imported numpy itself (as in encode)
        if _type(said) in _NP_SCALARS:  # numpy's bool_ (`(self.a == o.a).all()`)
            said = _np_item(said)
        known = said is True
    except BaseException:
        known = True
    if _len(_REFLEXIVE) < 1024:
        _REFLEXIVE[eq] = known
    return known


def _tuple_fields(t):
    """A namedtuple class's field names (a list), or None: its `_fields` (read by type's
    getter) count only where its `__new__` is the one namedtuple makes for them (_NT_SHAPES),
    whose parameters they are, in order: a tuple subclass's own `_fields` could say anything."""
    if _dict_get(_STAND_IN_IDS, _id(t)) is t:  # the trusted side's stand-in, encoded again
        fields, defaults = _type_dict(t).get("_fields"), _type_dict(t).get("_defaults") or {}
        return None if fields is None else [[f, defaults[f]] if f in defaults else f for f in fields]
    fields = new = None
    for k in _type_mro(t):
        ns = _type_dict(k)
        if fields is None and "_fields" in ns:
            fields = ns["_fields"]
        if new is None and "__new__" in ns:
            new = ns["__new__"]
    if _type(new) is _staticmethod:  # as type() keeps a class's __new__
        new = _static_func(new)
    if _type(fields) is not tuple or _type(new) is not _function:
        return None
    shape = _NT_SHAPES.get(_len(fields))
    code = _code_of(new)
    if shape is None or (_co_code(code), _co_consts(code), _co_names(code)) != shape:
        return None
    if _co_varnames(code)[1 : 1 + _len(fields)] != fields or not _all(_type(x) is str for x in fields):
        return None
    # Its defaults are that __new__'s own (what `P(1)` gets for the rest): a field with one
    # as [name, default].
    defaults = _defaults_of(new) or ()
    if _type(defaults) is not tuple or _len(defaults) > _len(fields):
        return None
    first = _len(fields) - _len(defaults)
    return [f if n < first else [f, defaults[n - first]] for n, f in _enumerate(fields)]


def _nt_shapes(most=16):
    """{number of fields: (bytecode, constants, names)} of the `__new__` namedtuple makes for
    0..`most` fields, made at import (before any program runs)."""
    shapes = {}
    for n in range(most + 1):
        try:
            code = _collections.namedtuple("_Shape", ["f%d" % i for i in range(n)]).__new__.__code__
        except Exception:
            return {}
        shapes[n] = (code.co_code, code.co_consts, code.co_names)
    return shapes


def _intercepts(d):
    """Is `d` (a class attribute) a data descriptor other than a slot's or the instance dict's
    own: does its type (read by type's getters) define __set__ or __delete__?"""
    t = _type(d)
    if t is _member or t is _getset:
        return False
    return _any("__set__" in _type_dict(k) or "__delete__" in _type_dict(k) for k in _type_mro(t))


def _genuine_cells(init, code):
    """Do __init__'s free variables named as dataclasses name theirs hold what dataclasses put
    there (`object` for its frozen stores, its default-factory sentinel)? A function of the
    program's may name a closure `__dataclass_builtins_object__` and do anything through it."""
    names = _co_freevars(code)
    if not names:
        return True
    cells = _closure_of(init)
    if _type(cells) is not tuple or _len(cells) != _len(names):
        return False
    for name, cell in zip(names, cells):
        try:
            value = _cell_contents(cell)
        except ValueError:  # an empty cell
            return False
        if name == "__dataclass_builtins_object__" and value is not object:
            return False
        if name == "_HAS_DEFAULT_FACTORY" and value is not _HAS_DEFAULT_FACTORY:
            return False
    return True


def _generated_eq_names(eq, fields):
    """The fields (in their order) a dataclass's `eq` compares, read from its code; None when
    `eq` is not code dataclasses generates (_EQ_SHAPES), or names what is not a plain field
    of `fields` (a dataclass's own Field objects)."""
    if _type(eq) is not _function:
        return None
    code = _code_of(eq)
    names = _EQ_NAMES.get(code)
    if names is None:
        names = _eq_code_names(code)
        if _len(_EQ_NAMES) < 1024:
            _EQ_NAMES[code] = names
    if names is False:
        return None
    own = {k: f for k, f in _dict_items(fields) if _type(k) is str}
    for k in names:
        f = _dict_get(own, k)
        if _type(f) is not _Field or _field_kind(f) is not _FIELD:
            return None
    return _list(names)


_EQ_NAMES = {}  # an __eq__'s code -> the field names it compares, or False: not generated code
_EQ_FIELD = "_acefarm_field_"


def _eq_code_names(code):
    """The attribute names code of dataclasses' generated __eq__ compares, in field order (a
    tuple), or False for any other code."""
    names = _co_names(code)
    shape = _EQ_SHAPES.get(_len(names))
    if shape is None:
        return False
    ops, consts, varnames, template = shape
    if _co_code(code) != ops or _co_consts(code) != consts or _co_varnames(code) != varnames:
        return False
    found = []
    for mine, theirs in zip(template, names):
        if _type(theirs) is not str:
            return False
        if _type(mine) is str:  # a name of the code's own (__class__, NotImplemented)
            if theirs != mine:
                return False
        else:  # the place of field number `mine`
            found.append((mine, theirs))
    found.sort()
    out = tuple(name for _, name in found)
    return out if _len(set(out)) == _len(out) else False


def _eq_shapes(most=16):
    """{number of names: (bytecode, constants, variable names, names)} of the __eq__ dataclasses
    generate for 0..`most` fields, made here at import (in the zygote, before any program could
    change the dataclasses module); a class of more fields is read as a plain class."""
    shapes = {}
    for n in range(most + 1):
        try:
            code = _dataclasses.make_dataclass("_Shape", [_EQ_FIELD + str(i) for i in range(n)]).__eq__.__code__
        except Exception:  # a Python whose dataclasses work otherwise: every class read as plain
            return {}
        template = tuple(int(k[len(_EQ_FIELD) :]) if k.startswith(_EQ_FIELD) else k for k in code.co_names)
        shapes[len(template)] = (code.co_code, code.co_consts, code.co_varnames, template)
    return shapes


def _factory_defaults(fields, defaults):
    """A dataclass __init__'s defaults for fields made by a built-in type's default_factory
    (`field(default_factory=list)`): that type's empty value, as the call would make it."""
    out = {}
    for k, f in _dict_items(fields):
        if _type(k) is str and k in defaults and _type(f) is _Field:
            factory = _field_factory(f)
            if _type(factory) is _type and factory in _EMPTY_FACTORIES:
                out[k] = factory()
    return out


_function = _type(_record_fields)
_code_of, _defaults_of = _function.__code__.__get__, _function.__defaults__.__get__
_kwdefaults_of = _function.__kwdefaults__.__get__
_globals_of, _builtins_of = _function.__globals__.__get__, _function.__builtins__.__get__
_GENUINE = dict(_builtins.__dict__)  # the built-ins before any program ran (import: the zygote's)
_MISSING_BUILTIN = object()
_code = _type(_record_fields.__code__)
_co_varnames, _co_argcount = _code.co_varnames.__get__, _code.co_argcount.__get__
_co_kwonly, _co_flags = _code.co_kwonlyargcount.__get__, _code.co_flags.__get__
_co_names, _co_code, _co_consts = _code.co_names.__get__, _code.co_code.__get__, _code.co_consts.__get__
_co_posonly, _co_freevars = _code.co_posonlyargcount.__get__, _code.co_freevars.__get__
_closure_of = _function.__closure__.__get__


def _a_cell():
    x = None
    return (lambda: x).__closure__[0]


_cell_contents = _type(_a_cell()).cell_contents.__get__
_HAS_DEFAULT_FACTORY = getattr(_dataclasses, "_HAS_DEFAULT_FACTORY", _MISSING_BUILTIN)
_EQ_SHAPES = _eq_shapes()
_staticmethod = staticmethod
_static_func = staticmethod.__dict__["__func__"].__get__
_NT_SHAPES = _nt_shapes()


def _signature(init, verbatim=True):
    """A plain `__init__`'s parameters after self, its defaults, the parameters a call's
    binding leaves out (a dataclass's compare=False fields: none here) and where it keeps
    each parameter it stores as given: ([names], {name: default}, [], {name: attribute}),
    for a test's `Point(1, 2)` to be bound as Python binds it (Constructed.matches); None for
    any other (`*args`, a built-in's, none). Read through the function and code types'
    getters. `verbatim`: False when the class can change what __init__ stores (its own
    __setattr__ or __new__, a __post_init__): then it keeps no parameter as given."""
    if _type(init) is not _function:
        return None
    code = _code_of(init)
    if _co_flags(code) & 0x0C or _co_posonly(code) > 1:  # *args, **kwargs, `x, /` (no keyword binds it)
        return None
    names = _list(_co_varnames(code)[1 : _co_argcount(code) + _co_kwonly(code)])
    if _len(set(names)) != _len(names):
        return None  # a forged code object
    defaults, kwdefaults = _defaults_of(init) or (), _kwdefaults_of(init) or {}
    if _type(defaults) is not tuple or _len(defaults) > _len(names) or _type(kwdefaults) is not dict:
        return None
    positional = _co_argcount(code) - 1  # after self
    given = dict(zip(names[positional - _len(defaults) : positional], defaults))
    given.update(_dict_items(kwdefaults))
    if not verbatim:
        stored, fixed = {}, {}
    else:
        found = _STORES.get(code)  # once per __init__: a tree of 10,000 nodes reads it once
        if found is None:
            found = _stored_as_given(code, names)
            if _len(_STORES) < 1024:
                _STORES[code] = found
        stored, fixed, guarded_by = found
        if (guarded_by and not _genuine_builtins(init, guarded_by)) or not _genuine_cells(init, code):
            stored, fixed = {}, {}
    return names, given, [], stored, fixed


def _genuine_builtins(init, used):
    """Are the names `used` (by __init__'s guards) the genuine built-ins for `init`: none of
    them a global of its module, each its builtins' as they were before any program ran? Read
    by scanning the dicts' items: a key of the program's (a str subclass) never runs its code;
    a dict of a subclass (its __missing__ answers a name) is no plain namespace."""
    globals_, builtins_ = _globals_of(init), _builtins_of(init)
    if _type(globals_) is not dict or _type(builtins_) is not dict:
        return False
    own = {k for k, _ in _dict_items(globals_) if _type(k) is str}
    found = {k: v for k, v in _dict_items(builtins_) if _type(k) is str}
    return _all(n not in own and n in found and found[n] is _dict_get(_GENUINE, n, _MISSING_BUILTIN) for n in used)


# What a plain __init__ may do besides storing its parameters (CPython 3.11's bytecode): build
# values, read its parameters and constants, call the built-in types (`self.items = list()`),
# and what a dataclass's generated __init__ does (object.__setattr__ for a frozen one, a
# default_factory's call). Anything else (a method call, `super().__init__`, an item store)
# could change what it stored: then no parameter counts as stored as given.
_PLAIN_OPS = frozenset(
    "RESUME NOP COPY_FREE_VARS LOAD_FAST LOAD_CONST LOAD_DEREF STORE_ATTR POP_TOP RETURN_VALUE "
    "BUILD_LIST BUILD_TUPLE BUILD_SET BUILD_MAP BUILD_CONST_KEY_MAP BINARY_OP UNARY_NEGATIVE "
    "COMPARE_OP IS_OP CONTAINS_OP POP_JUMP_FORWARD_IF_FALSE POP_JUMP_FORWARD_IF_TRUE JUMP_FORWARD "
    "PUSH_NULL PRECALL CALL LOAD_GLOBAL LOAD_METHOD KW_NAMES CACHE".split()
)
_PLAIN_CALLEES = frozenset({"list", "dict", "set", "tuple", "frozenset", "str", "int", "float", "bool"})


def _dataclass_deref(ops, i):
    """Is the LOAD_DEREF `ops[i]` one a dataclass's generated __init__ makes, used as it uses it:
    `__dataclass_builtins_object__.__setattr__(...)` (its cell checked by _genuine_cells), the
    default-factory sentinel, or a factory called with nothing (`_dflt_items()`)? A closure of
    the program's named alike, called on `self`, could do anything."""
    name, after = ops[i].argval, [x.opname for x in ops[i + 1 : i + 3]]
    if name == "__dataclass_builtins_object__":
        return after[:1] == ["LOAD_METHOD"] and ops[i + 1].argval == "__setattr__"
    if name in ("_HAS_DEFAULT_FACTORY", "_MISSING_TYPE"):
        return after[:1] != ["PRECALL"]
    if _type(name) is str and name.startswith("_dflt_"):
        return after == ["PRECALL", "CALL"] and ops[i + 1].arg == 0
    return False


_STORES = {}  # __init__'s code -> _stored_as_given's answer


def _stored_as_given(code, names):
    """({parameter: attribute}, {attribute: constant}, (global, ...)): each of `names` that the
    __init__ `code` stores unchanged as `self.<attribute>`, and each attribute it sets to a
    constant (`self.items = []`, `self.next = None`), where that is the one store to the
    attribute and its code does only what _PLAIN_OPS allow, after guards that only raise
    (`if x < 0: raise ValueError(...)`, `assert y >= 0`: _guards) and the globals those use;
    ({}, {}, ()) otherwise. An attribute it computes (`self.norm = x * x`, `self.lo = a if a < b
    else b`) is in neither."""
    try:
        ops = _list(_dis.get_instructions(code))
    except Exception:
        return {}, {}, ()
    self_name = _co_varnames(code)[0] if _co_argcount(code) else None
    body, guarded_by = _guards(ops, self_name)
    if body > 1:  # the guards fall through to the body's first instruction: not a branch's
        ops = [ops[0], ops[body]._replace(is_jump_target=False), *ops[body + 1 :]]
    given, fixed = _stores(_untupled(ops, self_name), names, self_name)
    # The built-ins its body calls (`self.items = list()`) must be the genuine ones too.
    guarded_by += tuple(ins.argval for ins in ops if ins.opname == "LOAD_GLOBAL" and _type(ins.argval) is str)
    return given, fixed, guarded_by


# What a guard may do: test the parameters and raise (no store, no `self`, globals only genuine
# built-ins: _genuine_builtins).
_GUARD_OPS = frozenset(
    "NOP LOAD_FAST LOAD_CONST COMPARE_OP IS_OP CONTAINS_OP UNARY_NOT UNARY_NEGATIVE BINARY_OP "
    "POP_JUMP_FORWARD_IF_FALSE POP_JUMP_FORWARD_IF_TRUE POP_JUMP_FORWARD_IF_NONE POP_JUMP_FORWARD_IF_NOT_NONE "
    "JUMP_IF_FALSE_OR_POP JUMP_IF_TRUE_OR_POP JUMP_FORWARD LOAD_GLOBAL PUSH_NULL PRECALL CALL KW_NAMES "
    "RAISE_VARARGS LOAD_ASSERTION_ERROR BUILD_STRING FORMAT_VALUE BUILD_TUPLE BUILD_LIST COPY SWAP "
    "LOAD_ATTR LOAD_METHOD".split()
)
# The methods a guard may call on a parameter: built-in values' that change nothing.
_PURE_METHODS = frozenset(
    "strip lstrip rstrip lower upper isdigit isalpha isalnum isspace isnumeric isdecimal isidentifier islower "
    "isupper startswith endswith count index find get keys values items copy split is_integer bit_length".split()
)
_JUMPS = frozenset(
    "POP_JUMP_FORWARD_IF_FALSE POP_JUMP_FORWARD_IF_TRUE POP_JUMP_FORWARD_IF_NONE POP_JUMP_FORWARD_IF_NOT_NONE "
    "JUMP_IF_FALSE_OR_POP JUMP_IF_TRUE_OR_POP JUMP_FORWARD".split()
)


def _untupled(ops, self_name):
    """`ops` with each `self.a, self.b = x, y` (n values, each a parameter or a constant, then
    SWAP n for two or three, BUILD_TUPLE n + UNPACK_SEQUENCE n for more, then n stores to
    `self`) as the n single stores it makes, in order: `self.a = x`, `self.b = y`."""
    out, i = [], 0
    while i < _len(ops):
        n = 0
        while i + n < _len(ops) and ops[i + n].opname in ("LOAD_FAST", "LOAD_CONST") and ops[i + n].argval != self_name:
            n += 1
        shape = [x.opname for x in ops[i + n : i + n + 2]]
        if n in (2, 3) and shape[:1] == ["SWAP"] and ops[i + n].arg == n:  # two or three: one SWAP
            skip = 1
        elif n >= 2 and shape == ["BUILD_TUPLE", "UNPACK_SEQUENCE"] and ops[i + n].arg == ops[i + n + 1].arg == n:
            skip = 2
        else:
            out.append(ops[i])
            i += 1
            continue
        stores = ops[i + n + skip : i + n + skip + 2 * n]
        pairs = [stores[k : k + 2] for k in range(0, _len(stores), 2)]
        if _len(pairs) != n or not _all(
            _len(p) == 2 and p[0].opname == "LOAD_FAST" and p[0].argval == self_name and p[1].opname == "STORE_ATTR"
            for p in pairs
        ):
            out.append(ops[i])
            i += 1
            continue
        for value, (load_self, store) in zip(ops[i : i + n], pairs):
            out += [value, load_self, store]
        i += n + skip + 2 * n
    return out


def _guards(ops, self_name):
    """(index of the first instruction after __init__'s leading guards, the globals they load):
    each guard a run of _GUARD_OPS up to a RAISE_VARARGS whose jumps land inside it or on the
    instruction after it, loading no `self`. (1, ()) when there is none."""
    at, used = 1, []
    while True:
        end = at
        while end < _len(ops) and ops[end].opname in _GUARD_OPS and ops[end].opname != "RAISE_VARARGS":
            end += 1
        if end >= _len(ops) - 1 or ops[end].opname != "RAISE_VARARGS":
            return at, tuple(used)
        run = ops[at : end + 1]
        lo, after = ops[at].offset, ops[end + 1].offset
        for ins in run:
            if ins.opname == "LOAD_FAST" and ins.argval == self_name:
                return at, tuple(used)
            if ins.opname in _JUMPS and not (lo <= ins.argval <= ops[end].offset or ins.argval == after):
                return at, tuple(used)
            if ins.opname == "LOAD_GLOBAL":
                if _type(ins.argval) is not str:
                    return at, tuple(used)
                used.append(ins.argval)
            if ins.opname == "LOAD_METHOD" and ins.argval not in _PURE_METHODS:
                return at, tuple(used)  # `options.setdefault(...)`, `items.sort()`: it changes them
        at = end + 1


def _stores(ops, names, self_name):
    """({parameter: attribute}, {attribute: constant}) of the instructions `ops` (see
    _stored_as_given)."""
    stores, targets, start = [], _collections.Counter(), 0
    for i, ins in _enumerate(ops):
        op, arg = ins.opname, ins.argval
        if op not in _PLAIN_OPS:
            return {}, {}
        if op == "LOAD_GLOBAL" and arg not in _PLAIN_CALLEES:
            return {}, {}
        if op == "LOAD_METHOD" and arg != "__setattr__":
            return {}, {}
        if op == "LOAD_DEREF" and not _dataclass_deref(ops, i):
            return {}, {}
        if op == "STORE_ATTR":
            # `self.a = <value>`: <value>, LOAD_FAST self, STORE_ATTR a
            if not (i >= 1 and ops[i - 1].opname == "LOAD_FAST" and ops[i - 1].argval == self_name):
                return {}, {}
            stores.append((arg, ops[start : i - 1]))
        elif op == "CALL" and ins.arg == 3:
            # A frozen dataclass's `object.__setattr__(self, 'a', <value>)`
            m = i - 1
            while m >= start and ops[m].opname != "LOAD_METHOD":
                m -= 1
            head = ops[m + 1 : m + 3] if m >= start else []
            if _len(head) == 2 and head[0].opname == "LOAD_FAST" and head[0].argval == self_name:
                if head[1].opname == "LOAD_CONST" and _type(head[1].argval) is str:
                    stores.append((head[1].argval, [x for x in ops[m + 3 : i] if x.opname != "PRECALL"]))
        if op in _STATEMENT_ENDS or (op == "CALL" and ins.arg == 3):
            start = i + 1
    given, fixed = {}, {}
    for attr, value in stores:
        targets[attr] += 1
        kind, what = _stored_value(value, names)
        if kind == "param":
            given.setdefault(what, []).append(attr)
        elif kind == "const":
            fixed[attr] = what
    given = {p: at[0] for p, at in _dict_items(given) if _len(at) == 1 and targets[at[0]] == 1}
    fixed = {a: x for a, x in _dict_items(fixed) if targets[a] == 1}
    return given, fixed


_STATEMENT_ENDS = frozenset({"STORE_ATTR", "POP_TOP", "RESUME", "COPY_FREE_VARS", "NOP"})
_EMPTY_BUILDS = {"BUILD_LIST": list, "BUILD_MAP": dict, "BUILD_SET": set, "BUILD_TUPLE": tuple}
_CONSTANTS = (type(None), bool, int, float, str, bytes)


def _stored_value(value, names):
    """What the instructions `value` compute: ("param", name) for a parameter as given (a
    dataclass's `p if p is not _HAS_DEFAULT_FACTORY else factory()` too), ("const", value) for
    a constant or a built-in type's empty value, else (None, None)."""
    first = value[0] if value else None
    if first is None or first.is_jump_target:
        return None, None
    ops = [x.opname for x in value]
    if ops == ["LOAD_FAST"] and first.argval in names:
        return "param", first.argval
    if (
        _len(value) >= 4
        and ops[0] == "LOAD_FAST"
        and first.argval in names
        and ops[1] == "LOAD_DEREF"
        and "HAS_DEFAULT_FACTORY" in str(value[1].argval)
        and ops[2] == "IS_OP"
        and ops[-1] == "LOAD_FAST"
        and value[-1].argval == first.argval
        and value[-1].is_jump_target
    ):
        return "param", first.argval  # given, it is stored as given; else its factory's (see _factory_defaults)
    if ops == ["LOAD_CONST"] and (_type(first.argval) in _CONSTANTS):
        return "const", first.argval
    if _len(value) == 1 and ops[0] in _EMPTY_BUILDS and first.arg == 0:
        return "const", _EMPTY_BUILDS[ops[0]]()
    if ops == ["LOAD_GLOBAL", "PRECALL", "CALL"] and value[2].arg == 0 and first.argval in _PLAIN_CALLEES:
        return "const", _builtin_types[first.argval]()
    return None, None


_builtin_types = {t.__name__: t for t in (list, dict, set, tuple, frozenset, str, int, float, bool)}


def encode(value, max_nodes=MAX_ENCODED_NODES, records=None, shared=False):
    """Encode `value` into JSON-able data, never running the program's code. `records`: the
    program's namespace (a probe's value: see Record), where an instance of a program class
    that defines `__eq__` (a dataclass's included), the class its global of that name holds,
    crosses as a Record of its attributes. `shared`: a mutable container met again (`[[0] * 3]
    * 2`) crosses as {"SR": k}, and its first encoding is marked k: a list's with {"SD": k}
    before its items, a tagged one's with an "SD": k key beside its tag (for `decode(...,
    shared=True)`, between the sandbox's two processes only)."""
    budget = [max_nodes]
    # id -> encoding; the containers met; id -> k of the marked (`shared` only: a probe's
    # value, the hot path, makes none of them)
    seen = alive = marks = None
    if shared:
        seen, alive, marks = {}, [], {}

    def enc_shared(v, depth):
        if _type(v) not in _SHAREABLE:
            return enc_value(v, depth)
        i = _id(v)
        out = seen.get(i)
        if out is None:
            out = enc_value(v, depth)  # a container inside itself never gets here: too deep
            if _type(out) is list or "X" not in out:
                seen[i] = out
                alive.append(v)  # its id stays its own while the value is encoded
            return out
        budget[0] -= 1
        k = marks.get(i)
        if k is None:
            k = marks[i] = _len(marks)
            if _type(out) is list:
                out.insert(0, {"SD": k})
            else:
                out["SD"] = k
        return {"SR": k}

    def enc_value(v, depth):
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise _TooLarge()
        t = _type(v)
        if v is None or t is bool:
            return v
        if t is int:
            return _int(v)
        if t is float:
            return _float(v)
        if t is str:
            return v
        if t is list or t is tuple:
            if _len(v) > budget[0]:  # as the item-by-item path would end, before copying anything
                raise _TooLarge()
            flat = _flat(v)
            if flat is not None:
                budget[0] -= _len(flat)
                if budget[0] < 0 or (flat and depth >= MAX_DEPTH):
                    raise _TooLarge()
                return flat if t is list else {"T": flat}
            if t is list:
                return [enc(x, depth + 1) for x in _list_iter(v)]
            return {"T": [enc(x, depth + 1) for x in _tuple_iter(v)]}
        if t is dict:
            return {"D": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in _dict_items(v)]}
        collection = _collection(t, v, depth)
        if collection is not None:
            return collection
        if t is set:
            return {"S": [enc(x, depth + 1) for x in _set_iter(v)]}
        if t is _dict_keys or t is _dict_values:  # iterated by the view's C code: no program code
            if _len(v) > budget[0]:
                raise _TooLarge()
            return {"DK" if t is _dict_keys else "DV": [enc(x, depth + 1) for x in v]}
        if t is _dict_itemview:
            if _len(v) > budget[0]:
                raise _TooLarge()
            return {"DI": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v]}
        if t is range:
            return {
                "RG": [
                    enc(range.start.__get__(v), depth + 1),
                    enc(range.stop.__get__(v), depth + 1),
                    enc(range.step.__get__(v), depth + 1),
                ]
            }
        if t is frozenset:
            return {"FS": [enc(x, depth + 1) for x in _frozenset_iter(v)]}
        if t is bytes:
            return {"B": _bytes_hex(v)}
        if t is bytearray:
            return {"BA": _bytearray_hex(v)}
        if t is complex:
            return {"C": [_float(complex.real.__get__(v)), _float(complex.imag.__get__(v))]}
        if _Fraction is not None and t is _Fraction:
            return {"Q": [enc(v._numerator, depth + 1), enc(v._denominator, depth + 1)]}
        if _Decimal is not None and t is _Decimal:
            return {"DEC": _decimal_str(v)}
        if t is _Match:
            return {"XT": "Match"}
        if t is _timezone:
            return {"DT": ["timezone", _zone_wire(v)]}
        if t in _DT_FIELDS:
            body = _datetime_value(t, v)
            if body is not None:
                return {"DT": body}
        if not _NP_SCALARS and _type.__dict__["__module__"].__get__(t) == "numpy":
            bind_numpy()  # the program imported numpy itself (the zygote did not)
        if _NP_ARRAY is not None and t is _NP_ARRAY[0] and _NP_ARRAY[1](v) == 0:
            # A 0-d array (np.squeeze, np.asarray(3.0)) of a number is that number, as a scalar.
            if _NP_ARRAY[2](v).kind in "biufc":
                item = _NP_ARRAY[3](v)
                if _type(item) is int:
                    return {"R": ["ndarray", _int(item)]}
                if _type(item) is float:
                    return {"R": ["ndarray", _float(item)]}
                if _type(item) in (bool, complex):
                    return enc(item, depth)
        if t in _NP_SCALARS:
            item, name = _np_item(v), _type.__dict__["__qualname__"].__get__(t)
            # As a stand-in of its Python type (`type(x) is int` False, as for np.int64), but
            # a bool or complex, which have no such stand-in. Not a datetime64's, nor an object's.
            if _type(item) is int:
                return {"R": [name, _int(item)]}
            if _type(item) is float:
                return {"R": [name, _float(item)]}
            if _type(item) in (bool, complex):
                return enc(item, depth)
        # Subclasses of built-ins (namedtuple, IntEnum, a hostile `class X(int)` with a
        # rigged __eq__): keep only the built-in value, read through the base type's own
        # C-level methods, and say that the real type was another.
        name = _type.__dict__["__qualname__"].__get__(t)
        if _dict_get(_STAND_IN_IDS, _id(t)) is t:  # the trusted side's stand-in, encoded again
            held = _type_dict(t)["type_name"] is not None
            name = _type_dict(t)["type_name"] or name
        else:  # the class the program's global of its name holds: a test's call of it may equal it
            held = bool(records) and _type(records) is dict and _dict_get(records, name) is t

        def reduced_of(value, fields=None):
            body = [name, value]
            if fields is not None:
                fields = [f if _type(f) is str else [f[0], enc(f[1], depth + 1)] for f in fields]
            if fields is not None or held:
                body.append(fields)
            if held:
                body.append(True)
            return {"R": body}

        depth += 1  # the reduced value sits one level below its marker
        if _is_sub(t, int):
            return reduced_of(_int(_int_int(v)))
        if _is_sub(t, float):
            return reduced_of(_float(_float_float(v)))
        if _is_sub(t, str):
            return reduced_of(_str_str(v))
        if _is_sub(t, tuple):  # a namedtuple's with its fields: `P(x=1, y=2)` binds by them
            return reduced_of({"T": [enc(x, depth + 1) for x in _tuple_iter(v)]}, _tuple_fields(t))
        if _is_sub(t, list):
            return reduced_of([enc(x, depth + 1) for x in _list_iter(v)])
        for base in (_Counter, _OrderedDict, _defaultdict, _deque):
            if _is_sub(t, base):
                return reduced_of(_collection(base, v, depth))
        if _is_sub(t, dict):
            return reduced_of({"D": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in _dict_items(v)]})
        if _is_sub(t, frozenset):
            return reduced_of({"FS": [enc(x, depth + 1) for x in _frozenset_iter(v)]})
        if _is_sub(t, set):
            return reduced_of({"S": [enc(x, depth + 1) for x in _set_iter(v)]})
        # A record only of the class the program's global of its name is: the test's `Point(1,
        # 2)` means that class, and another class named alike (its __init__ binding otherwise)
        # must not stand for it.
        if records and _type(records) is dict and _dict_get(records, name) is t:
            record = _record_fields(t, v)
        else:
            record = None
        if record == ():
            return {"X": name + " (its __eq__ does not say it equals itself)"}
        if record is not None:
            fields, signature = record
            body = [name, [[k, enc(x, depth + 2)] for k, x in fields]]  # 4 JSON levels: 2 here
            if signature is not None:
                names, defaults, ignored, stored, fixed = signature
                given = [[k, enc(x, depth + 2)] for k, x in _dict_items(defaults)]
                constants = [[k, enc(x, depth + 2)] for k, x in _dict_items(fixed)]
                body.append([names, given, ignored, _list(_dict_items(stored)), constants])
            return {"OB": body}
        return {"X": name}

    def _collection(t, v, depth):
        """The collections types the codec carries with their type (order, counts and
        factories matter to comparisons): `v` read through `t`'s own methods."""
        if t is _Counter or t is _OrderedDict:
            # An OrderedDict's order is its own (move_to_end changes it), not its dict's.
            items = _dict_items(v) if t is _Counter else _odict_items(v)
            return {"CT" if t is _Counter else "OD": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in items]}
        if t is _defaultdict:
            factory = _defaultdict_factory(v)
            return {
                "DD": [
                    _FACTORIES.get(factory) if _type(factory) is type else None,
                    [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in _dict_items(v)],
                ]
            }
        if t is _deque:
            maxlen = _deque_maxlen(v)
            return {"DQ": [[enc(x, depth + 1) for x in _deque_iter(v)], maxlen if _type(maxlen) is int else None]}
        return None

    enc = enc_shared if shared else enc_value
    try:
        return enc(value, 0)
    except _TooLarge:
        return {"X": "<value too large or too deep>"}
    except Exception:
        return {"X": "<value could not be read>"}
    finally:
        # The closures are a reference cycle: what they hold would live until the next
        # collection, and a container's reference count says who holds it (rpc's mirrors).
        if shared:
            alive.clear()
            seen.clear()


def exceeds(value, max_nodes=MAX_ENCODED_NODES):
    """Whether `encode` would find `value` too large or too deep to carry: more than
    `max_nodes` values, items and keys, or nested past MAX_DEPTH. For the trusted side's own
    values (built-in containers): it counts, never copying or calling anything; a container
    shared many times (a test's `[[0, 0]] * n`) is counted through once."""
    known = {}

    def nodes(v, depth):
        if depth > MAX_DEPTH:
            raise _TooLarge()
        if isinstance(v, dict):
            items = (*v.keys(), *v.values())
        elif isinstance(v, (list, tuple, set, frozenset, _deque)):
            items = v
        else:
            return 1
        n = known.get(_id(v))
        if n is None:
            n = 1
            for x in items:
                n += 1 if _type(x) in _LEAVES else nodes(x, depth + 1)
                if n > max_nodes:
                    raise _TooLarge()
            known[_id(v)] = n
        return n

    try:
        return nodes(value, 0) > max_nodes
    except _TooLarge:
        return True


class OpaqueCompared(TypeError):
    """An opaque value was compared, hashed or tested for truth: the assert fails."""


class Opaque:
    """A value that could not be carried across safely. It satisfies no comparison: `==`,
    `!=`, ordering, membership, hashing and truth all raise OpaqueCompared, so `f() != 3`
    and `not (f() == 3)` fail as surely as `f() == 3` (were `!=` True, a rigged object would
    pass every `!=` test)."""

    __slots__ = ("type_name",)

    def __init__(self, type_name):
        self.type_name = type_name

    def _refuse(self, *args):
        raise OpaqueCompared("%r cannot be compared on the trusted side" % (self,))

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __bool__ = __contains__ = _refuse

    def __repr__(self):
        return "<opaque " + self.type_name + ">"


class TruthyOpaque(Opaque):
    """An opaque value whose truth is known without running any of its code: a genuine
    `re.Match` (only `re` makes one, and it cannot be subclassed) is true, as `assert
    is_number('12')` expects. It still satisfies no comparison."""

    __slots__ = ()

    def __bool__(self):
        return True


MAX_RECORD_FIELDS = 256


class Record:
    """An instance of a program's class that defines `__eq__` (a dataclass, a `Point` with its
    own `__eq__`), as a probe's value: its class's name, its attributes, and its `__init__`'s
    parameters and defaults when that is a plain function. It equals only what a test writes
    as that class's call with its own values (Constructed: `f(x) == Point(1, 2)`), when those
    values, bound as Python binds them, are its attributes. That call is built on the trusted
    side and never runs in the program's process, so a program cannot shape its value to it;
    against anything else (another record, a plain value) a Record is opaque."""

    __slots__ = ("fields", "signature", "type_name")

    def __init__(self, type_name, fields, signature=None):
        self.type_name = type_name
        self.fields = fields  # ((name, value), ...)
        self.signature = signature  # its __init__'s (parameter names, {name: default}), if plain

    def __eq__(self, other):
        if type(other) is Constructed:
            return other.matches(self)
        # Anything else, as an opaque value: `f(x) != 3` is not passed by any object whatever,
        # and two records (`f(1) == Point(*args)` built in the child) decide nothing either.
        raise OpaqueCompared("%r cannot be compared with %s on the trusted side" % (self, type(other).__name__))

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        # As the matching Constructed's, when that gives all its arguments by position: the
        # attributes its parameters are stored in, in __init__'s order (or its own).
        held = dict(self.fields)
        if self.signature is None:
            return hash((self.type_name, tuple(x for _, x in self.fields)))
        names, _, ignored, stored, _ = self.signature
        return hash((self.type_name, tuple(held.get(stored.get(k)) for k in names if k not in ignored)))

    def __bool__(self):
        raise OpaqueCompared("%r: the truth of a program's object is not judged on the trusted side" % (self,))

    def __repr__(self):
        return "%s(%s)" % (self.type_name, ", ".join("%s=%r" % f for f in self.fields))


class CallMismatch(TypeError):
    """A test's call of a program class does not bind to its `__init__` (`Point(0, 0, 0)`): the
    TypeError Python raises for that call, raised where the call is judged."""


class Constructed:
    """A test's call of a program's class with values of its own, `Point(1, 2)`, on the
    trusted side: it equals a Record of that class whose attributes are those values (see
    Record), or the same call."""

    __slots__ = ("args", "kwargs", "type_name")

    def __init__(self, type_name, args, kwargs):
        self.type_name = type_name
        self.args = tuple(args)
        self.kwargs = tuple(sorted(kwargs.items()))

    def matches(self, record):
        held = dict(record.fields)
        if record.type_name != self.type_name or len(held) != len(record.fields):
            return False  # another class, or a name twice (a forged record)
        if record.signature is not None:  # bound as Python binds `Point(1, 2)` to its __init__
            names, defaults, ignored, stored, fixed = record.signature
            if len(self.args) > len(names):
                given = (self.type_name, len(names), len(self.args))
                raise CallMismatch("%s() takes %d arguments but %d were given" % given)
            bound = dict(zip(names, self.args))
            for k, x in self.kwargs:
                if k in bound or k not in names:
                    raise CallMismatch("%s() got an unexpected or repeated argument %r" % (self.type_name, k))
                bound[k] = x
            for k in names:
                if k not in bound:
                    if k not in defaults:
                        raise CallMismatch("%s() missing required argument: %r" % (self.type_name, k))
                    bound[k] = defaults[k]
            # Each argument is what the object holds where __init__ stores that parameter as
            # given (`self.x = x`, `self._x = x`), and each attribute __init__ sets to a
            # constant (`self.items = []`) still holds it: the object is as that call would
            # make it. An attribute __init__ computes (`self.norm = x * x`, a normalizing gcd,
            # `self.cents = amount * 100`) or that the object got later cannot be stated by
            # the call: such a comparison is not judged (neither equal nor unequal: `!=` must
            # not pass either).
            expected = {}
            for k, x in bound.items():
                if k in ignored:
                    continue
                at = stored.get(k)
                if at is None or at in expected:
                    raise OpaqueCompared("%r: what %s() keeps of %r is its own code's" % (record, self.type_name, k))
                expected[at] = x
            for at, x in fixed.items():
                if at in expected:
                    raise OpaqueCompared("%r: %s() sets %r twice" % (record, self.type_name, at))
                expected[at] = x
            skipped = {stored[k] for k in ignored if k in stored}
            if any(at not in expected and at not in skipped for at in held):
                raise OpaqueCompared("%r holds what %r does not state" % (record, self))
            return all(at in held and held[at] == x for at, x in expected.items())
        # No plain __init__ (none, `*args`, a wrapper): how the call binds is the class's code's.
        raise OpaqueCompared("%r: how %s() binds its arguments is not known here" % (record, self.type_name))

    def __eq__(self, other):
        if type(other) is Record:
            return self.matches(other)
        if type(other) is Constructed:
            # Two of the test's calls (`Point(1, 2) == Point(1, 2)`, a test of the class's own
            # __eq__): only that __eq__ could say, and the program's code decides nothing.
            raise OpaqueCompared("%r and %r: two calls of a program class are not compared" % (self, other))
        if isinstance(other, Opaque):
            return other == self  # raises
        base = _REDUCED_BASES.get(type(other))
        if base is not None and type(other).type_name != self.type_name:
            return False  # another class's value (a tuple subclass is no Point)
        fields = getattr(type(other), "_fields", None) if base is tuple else None
        if base is tuple and fields is not None:
            # A namedtuple's call (`P(x=1, y=2)`, `P(1)` with a default), bound by its fields.
            if len(self.args) > len(fields):
                return False
            bound = dict(zip(fields, self.args))
            for k, x in self.kwargs:
                if k in bound or k not in fields:
                    return False
                bound[k] = x
            for k, x in type(other)._defaults.items():
                bound.setdefault(k, x)
            return len(bound) == len(other) and all(x == bound[k] for k, x in zip(fields, other))
        if base is not None and not self.kwargs:
            # The program's subclass of a built-in, as its stand-in: a namedtuple's items are
            # the call's arguments (`Point(1, 2)`); another's value is its one argument (`Money(3)`).
            if base is tuple:
                return len(other) == len(self.args) and all(x == a for x, a in zip(other, self.args))
            return len(self.args) == 1 and other == self.args[0]
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        hash(self.kwargs)  # unhashable values raise
        return hash((self.type_name, self.args))

    def __bool__(self):
        raise OpaqueCompared("the truth of %r is not judged on the trusted side" % (self,))

    def __repr__(self):
        parts = [repr(a) for a in self.args] + ["%s=%r" % kv for kv in self.kwargs]
        return "%s(%s)" % (self.type_name, ", ".join(parts))


_REDUCED = {}  # (base, type name, fields) -> the stand-in class
_REDUCED_BASES = {}  # stand-in class -> its built-in base
_STAND_IN_IDS = {}  # id of a stand-in class -> it (looked up by id: no class's __hash__ runs)
_STAND_INS_MAX = 4096


def _nt_repr(self):
    names = type(self)._fields
    shown = ", ".join("%s=%r" % (n, v) for n, v in zip(names, tuple.__iter__(self)))
    return "%s(%s)" % (type(self)._shown, shown)


def _nt_replace(self, **changes):
    values = [changes.pop(n, v) for n, v in zip(type(self)._fields, tuple.__iter__(self))]
    if changes:
        raise ValueError("Got unexpected field names: %r" % list(changes))
    return type(self)(values)


# A namedtuple's stand-in's own methods (its fields are properties, by position).
_NAMEDTUPLE_METHODS = {
    "__repr__": _nt_repr,
    "_asdict": lambda self: dict(zip(type(self)._fields, tuple.__iter__(self))),
    "_replace": _nt_replace,
}


def reduced(base, type_name=None, fields=None, defaults=(), shown=None):
    """The trusted stand-in for an instance of a program's subclass of `base`: it compares,
    hashes and computes as `base` does (its methods are base's own), but its type is not
    `base`, as the real value's was not: `type(x) is tuple` is False for a namedtuple,
    `isinstance(x, tuple)` True. It keeps the program type's name (`type_name`: a test's call
    of another class never equals it) and a namedtuple's field names (`_fields`: the test's
    call with keywords, `P(x=1, y=2)`, binds by them, and `P(1)` takes the rest from its
    `defaults`: ((name, value), ...); `shown`: its class's name, for its repr, `_replace` and
    `_asdict`). Past _STAND_INS_MAX kinds, one without them."""
    try:
        key = (base, type_name, fields, defaults, shown)
        hash(key)
    except TypeError:  # an unhashable default (a list): its own class, not kept
        key = None
    cls = _REDUCED.get(key) if key is not None else None
    if cls is None:
        if key is not None and _len(_REDUCED) >= _STAND_INS_MAX and type_name is not None:
            return reduced(base)
        body = {"__slots__": (), "type_name": type_name}
        if fields is not None:
            body["_fields"] = fields
            body["_defaults"] = dict(defaults)
            if base is tuple:  # `p.x`, `p._replace(x=1)`, `repr(p)` of a namedtuple, as its own
                for i, name in enumerate(fields):
                    if (
                        type(name) is str
                        and name.isidentifier()
                        and not name.startswith("_")
                        and not hasattr(tuple, name)
                    ):
                        body[name] = property(_operator.itemgetter(i))
                body.update(_NAMEDTUPLE_METHODS, _shown=shown or type_name or "tuple")
        cls = type("reduced_" + base.__name__, (base,), body)
        if key is None:
            return cls  # not registered: encoded again, it is a plain tuple's stand-in
        _REDUCED[key] = cls
        _REDUCED_BASES[cls] = base
        _STAND_IN_IDS[id(cls)] = cls
    return cls


class DecodeError(ValueError):
    pass


# The trusted side does arithmetic on decoded values: numbers beyond these sizes (a program's
# Decimal('1e1000000'), a 10**10**6) would cost it unbounded CPU, so they arrive opaque.
MAX_INT_HEX_DIGITS = 16_384  # 65,536 bits: 2 ** 20000 is judged
MAX_DECIMAL_EXPONENT = 4_000
# Rebuilding a set or dict from keys a program chose to collide is quadratic; hash_collisions
# refuses those, and this bounds the rest as the trusted evaluator bounds the tables it builds
# (budget.Bounds.items): a set of 10**5 distinct ints is judged.
MAX_HASHED_ITEMS = 1 << 18
# Distinct values that share a hash make each insert into a set or dict walk all the others:
# n of them cost n**2 / 2 comparisons (a program's k * (2**61 - 1) all hash to 0). Legitimate
# data has a handful at most (hash(-1) == hash(-2)); past this many, a set or dict is opaque.
MAX_HASH_COLLISIONS = 64


# Values whose == costs little: small scalars, and small tuples and frozensets of them. Others
# - Fractions and Decimals with thousands of digits, long or nested containers - may cost a
# fraction of a millisecond per comparison, and few such comparisons are allowed.
_CHEAP_EQ = frozenset({int, float, str, bool, type(None), complex, _date, _datetime, _time, _timedelta})
MAX_COSTLY_COMPARES = 16
# What hash_collisions may spend on one decoded value, all its sets and dicts together
# (a value may hold thousands of small sets, each just under the limits of one).
VALUE_COMPARES = 200_000
VALUE_COSTLY_COMPARES = 64


def _cheap_eq(x, depth=0):
    t = _type(x)
    if t in _CHEAP_EQ:
        return True
    if t is _Fraction:
        return x.numerator.bit_length() <= 1024 and x.denominator.bit_length() <= 1024
    if t is _Decimal:
        return not x.is_finite() or (len(x.as_tuple().digits) <= 100 and abs(x.adjusted()) <= 100)
    if (t is tuple or t is frozenset) and depth < 3 and _len(x) <= 16:
        return _all(_cheap_eq(y, depth + 1) for y in x)
    return False


class Compares:
    """What hash_collisions may still spend on one value, all its sets and dicts together:
    comparisons, and those of them that involve a value costly to compare. The codec's own
    counter (in comparisons), kept on both sides of the sandbox."""

    __slots__ = ("costly", "left")

    def __init__(self, left=VALUE_COMPARES, costly=VALUE_COSTLY_COMPARES):
        self.left = left
        self.costly = costly


def hash_collisions(items, compares=None):
    """How many distinct values among `items` share their hash with another (equal values do
    not count: a set keeps one of them). None share a hash: one C-level pass, 0. Otherwise
    the items are grouped by hash, each compared with the distinct ones of its group, as a
    set would. Past MAX_HASH_COLLISIONS distinct values in groups, or past the comparisons
    allowed - four per item, MAX_COSTLY_COMPARES that involve a value costly to compare, and
    what is left of `compares` (a Compares shared by the sets and dicts of one value) - the
    count returned is over MAX_HASH_COLLISIONS. An unhashable item raises TypeError, as
    building the set would - but before any quadratic work."""
    if _len(items) == _len(set(_map(hash, items))):
        return 0
    if compares is None:
        compares = Compares()
    buckets, extra = {}, 0
    allowed = min(4 * _len(items) + 256, compares.left)  # a duplicate costs one; collisions more
    allowed_costly = min(MAX_COSTLY_COMPARES, compares.costly)
    left, costly = allowed, allowed_costly
    try:
        for x in items:
            seen = buckets.setdefault(hash(x), [])
            for y in seen:
                left -= 1
                if left < 0:
                    return MAX_HASH_COLLISIONS + 1
                if y is x:
                    break
                if not (_cheap_eq(x) and _cheap_eq(y)):
                    costly -= 1
                    if costly < 0:
                        return MAX_HASH_COLLISIONS + 1
                if y == x:
                    break
            else:
                seen.append(x)
                if _len(seen) > 1:
                    extra += 1
                    if extra > MAX_HASH_COLLISIONS:
                        return extra
        return extra
    finally:
        compares.left -= allowed - max(left, 0)
        compares.costly -= allowed_costly - max(costly, 0)


_SCALAR_TYPES = frozenset({bool, int, float, str, type(None)})
_PLAIN = (bool, int, float, str)


def all_scalars(items):
    """Every item decodes to itself (one C-level pass; decoded data holds JSON's types only)."""
    return _all(_map(_SCALAR_TYPES.__contains__, _map(_type, items)))


_KINDS = {
    "D": "dict",
    "S": "set",
    "FS": "frozenset",
    "OD": "OrderedDict",
    "CT": "Counter",
    "DK": "dict_keys",
    "DI": "dict_items",
}
_FACTORY_TYPES = {name: t for t, name in _FACTORIES.items()}
_REDUCIBLE = REDUCIBLE = frozenset(
    {int, float, str, tuple, list, dict, set, frozenset, _Counter, _OrderedDict, _defaultdict, _deque}
)


class TooCostlyToDecode(Exception):
    """Rebuilding this value would cost more than the caller allowed (its meter, see decode):
    not a verdict, the caller judges it where the job's own limits bound it."""


class _Decoding:
    """One top-level decode: its cap on a set's or dict's items, what hash_collisions may
    still spend on the value (Compares, made for its first set or dict), and the caller's
    meter's `rebuilt`, with the tagged values not yet reported to it (they are reported
    sixteen at a time)."""

    __slots__ = ("compares", "hashed_max", "meter", "shared", "tags")

    def __init__(self, hashed_max, meter, shared=False):
        self.shared = {} if shared else None  # k -> the value marked "SD": k (encode's shared)
        self.hashed_max = hashed_max
        self.compares = None
        self.meter = None if meter is None else meter.rebuilt
        self.tags = 0

    def comparisons(self):
        """The Compares all this value's sets and dicts share."""
        if self.compares is None:
            self.compares = Compares()
        return self.compares

    def rebuilt(self, kind, size):
        """Report rebuilding `size` of `kind` to the meter, if there is one: whatever it raises
        ends the decode as TooCostlyToDecode."""
        if self.meter is not None:
            try:
                self.meter(kind, size)
            except Exception as exc:
                raise TooCostlyToDecode(str(exc)) from exc


def decode_bounded(data, meter):
    """`decode` of one value, each costly thing it rebuilds reported to `meter` (see decode),
    which ends it by raising: TooCostlyToDecode."""
    return decode(data, 0, MAX_HASHED_ITEMS, meter)


def decode(data, depth=0, hashed_max=MAX_HASHED_ITEMS, meter=None, shared=False):
    """Rebuild plain built-in objects from `encode`'s output. Sets and dicts over `hashed_max`
    items stay opaque (the sandbox's test process, whose CPU is the test's, takes more).

    `meter`: on the trusted side, what bounds the work of rebuilding the value: an object with
    a method `rebuilt(kind, size)`, called for each costly thing rebuilt - `size` "tagged"
    values (dicts, sets, tuples...: sixteen at a time), an "int" of `size` hex digits, a
    "Fraction", a "Decimal" of `size` characters - which prices it and raises when the value
    costs more than the caller allows; the decode then raises TooCostlyToDecode. (The host's
    is executor/judging/budget.py's Budget: this module imports the standard library only,
    so the meter is duck-typed and the prices are the meter's.) `shared`: take encode(shared=
    True)'s shared containers (elsewhere their tags are malformed)."""
    t = type(data)
    if depth <= MAX_DEPTH and (data is None or t in _PLAIN or (t is list and all_scalars(data))):
        return data[:] if t is list else data  # most values: nothing to rebuild, nothing to meter
    return _decode(data, depth, _Decoding(hashed_max, meter, shared))


def _pairs(body, depth, state):
    """Decoded (key, value) pairs of a mapping, or an Opaque when its keys cannot be hashed
    safely here (an opaque key, or keys whose hashes collide)."""
    if type(body) is not list or len(body) > state.hashed_max:
        return Opaque("mapping (too large to judge)")
    pairs = [(_decode(k, depth + 1, state), _decode(v, depth + 1, state)) for k, v in body]
    if any(isinstance(k, Opaque) for k, _ in pairs):
        return Opaque("mapping with a key that cannot be compared")
    if hash_collisions([k for k, _ in pairs], state.comparisons()) > MAX_HASH_COLLISIONS:
        return Opaque("dict whose keys' hashes collide (too costly to judge)")
    return pairs


def _datetime_decoded(body):
    """A genuine datetime module value from its wire form (DecodeError when it is not one)."""
    if type(body) is list and len(body) == 2 and body[0] == "timezone":
        return _zone_decoded(body[1])
    if type(body) is not list or not body or body[0] not in _DT_TYPES:
        raise DecodeError("malformed datetime value")
    t = _DT_TYPES[body[0]]
    fields = body[1:]
    tz = None
    if t in _tzinfo_of:
        if not fields:
            raise DecodeError("malformed datetime value")
        *fields, tz = fields
        if tz is not None:
            tz = _zone_decoded(tz)
    if len(fields) != len(_DT_FIELDS[t][1]) or any(type(f) is not int for f in fields):
        raise DecodeError("malformed datetime value")
    if t is _timedelta or t is _date:
        return t(*fields)
    *values, fold = fields
    return t(*values, tzinfo=tz, fold=fold)


def _zone_decoded(wire):
    """The genuine datetime.timezone of `_zone_wire`'s form (timezone.utc itself for UTC)."""
    if type(wire) is not list or len(wire) != 3 or (wire[2] is not None and type(wire[2]) is not str):
        raise DecodeError("malformed time zone")
    seconds, micros, name = wire
    if type(seconds) is not int or type(micros) is not int:
        raise DecodeError("malformed time zone")
    offset = _timedelta(seconds=seconds, microseconds=micros)
    if name is None:
        return _timezone.utc if not offset else _timezone(offset)
    return _timezone(offset, name)


def _marked(data):
    """Is `data` a shared container's first encoding (see encode's `shared`)?"""
    t = type(data)
    if t is list:
        return bool(data) and type(data[0]) is dict and len(data[0]) == 1 and "SD" in data[0]
    return t is dict and len(data) == 2 and "SD" in data


def _decode(data, depth, state):
    if depth > MAX_DEPTH + 2:
        raise DecodeError("value nested too deeply")
    t = type(data)
    if data is None or t in _PLAIN:
        return data
    if state.shared is not None and _marked(data):  # a container met again (encode's shared)
        k = data[0]["SD"] if t is list else data["SD"]
        if type(k) is not int or k in state.shared:
            raise DecodeError("malformed shared value")
        body = data[1:] if t is list else {tag: v for tag, v in data.items() if tag != "SD"}
        value = state.shared[k] = _decode(body, depth, state)
        return value
    if t is list:
        if depth <= MAX_DEPTH and all_scalars(data):
            return data[:]
        return [_decode(x, depth + 1, state) for x in data]
    if t is not dict or len(data) != 1:
        raise DecodeError("malformed value")
    ((tag, body),) = data.items()
    if state.meter is not None:
        state.tags += 1
        if state.tags & 15 == 0:
            state.rebuilt("tagged", 16)
    try:
        if tag == "I":
            if len(body) > MAX_INT_HEX_DIGITS:
                return Opaque("int (too large to judge)")
            state.rebuilt("int", len(body))
            return int(body, 16)
        if tag == "F":
            return float(body)
        if tag == "T":
            if depth <= MAX_DEPTH and type(body) is list and all_scalars(body):
                return tuple(body)
            return tuple(_decode(x, depth + 1, state) for x in body)
        if tag == "OB":
            name, pairs, *rest = body
            if type(name) is not str or type(pairs) is not list or len(rest) > 1:
                raise DecodeError("malformed record")
            signature = None
            if rest:
                if type(rest[0]) is not list or len(rest[0]) != 5:
                    raise DecodeError("malformed record")
                names, defaults, ignored, stored, constants = rest[0]
                if (
                    type(names) is not list
                    or not all(type(n) is str for n in names)
                    or len(set(names)) != len(names)
                    or type(defaults) is not list
                    or type(ignored) is not list
                    or not all(n in names for n in ignored)
                    or type(stored) is not list
                    or not all(type(x) is list and len(x) == 2 and x[0] in names and type(x[1]) is str for x in stored)
                    or type(constants) is not list
                    or not all(type(x) is list and len(x) == 2 and type(x[0]) is str for x in constants)
                ):
                    raise DecodeError("malformed record")
                given = {}
                for pair in defaults:
                    if type(pair) is not list or len(pair) != 2 or pair[0] not in names:
                        raise DecodeError("malformed record")
                    given[pair[0]] = _decode(pair[1], depth + 2, state)
                fixed = {k: _decode(x, depth + 2, state) for k, x in constants}
                signature = (tuple(names), given, frozenset(ignored), {p: at for p, at in stored}, fixed)
            if len(pairs) > MAX_RECORD_FIELDS:
                return Opaque(name + " (too many attributes to judge)")
            fields, names = [], set()
            for pair in pairs:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or pair[0] in names:
                    raise DecodeError("malformed record")
                names.add(pair[0])
                fields.append((pair[0], _decode(pair[1], depth + 2, state)))
            return Record(name, tuple(fields), signature)
        if tag == "R":
            name, inner, *rest = body
            if type(name) is not str or len(rest) > 2 or (len(rest) == 2 and rest[1] is not True):
                raise DecodeError("malformed reduced value")
            value = _decode(inner, depth + 1, state)
            if isinstance(value, Opaque):
                return value
            base = type(value)
            if base not in _REDUCIBLE:
                raise DecodeError("malformed reduced value")
            # Its name counts only for the class the program's global of that name holds (a
            # test's call of that class may equal it): another's __qualname__ is the program's to set.
            named = name if len(rest) == 2 else None
            names = rest[0] if rest else None
            if names is not None:
                if base is not tuple or type(names) is not list or len(names) != len(value):
                    raise DecodeError("malformed namedtuple fields")
                # A field with a default is [name, default], after every field without one.
                plain = [f for f in names if type(f) is str]
                given = [f for f in names if type(f) is list and len(f) == 2 and type(f[0]) is str]
                fields = tuple(plain + [f[0] for f in given])
                well_formed = names[: len(plain)] == plain and len(plain) + len(given) == len(names)
                if not well_formed or len(set(fields)) != len(fields):
                    raise DecodeError("malformed namedtuple fields")
                defaults = tuple((f[0], _decode(f[1], depth + 1, state)) for f in given)
                return reduced(tuple, named, fields, defaults, name[:80])(value)
            if base is _defaultdict:
                return reduced(base, named)(value.default_factory, value)
            if base is _deque:
                return reduced(base, named)(value, value.maxlen)
            return reduced(base, named)(value)
        if tag == "DD":
            factory, body = body
            if factory is not None and factory not in _FACTORY_TYPES:
                raise DecodeError("unknown defaultdict factory")
            pairs = _pairs(body, depth, state)
            return pairs if isinstance(pairs, Opaque) else _defaultdict(_FACTORY_TYPES.get(factory), pairs)
        if tag == "DQ":
            items, maxlen = body
            if maxlen is not None and (type(maxlen) is not int or maxlen < 0):
                raise DecodeError("malformed deque")
            return _deque([_decode(x, depth + 1, state) for x in items], maxlen)
        if tag in ("D", "S", "FS", "OD", "CT", "DK", "DI") and len(body) > state.hashed_max:
            return Opaque("%s of %d items (too large to judge)" % (_KINDS[tag], len(body)))
        if tag in ("D", "OD", "CT", "DI"):
            pairs = _pairs(body, depth, state)
            if isinstance(pairs, Opaque):
                return pairs
            if tag == "DI":
                return dict(pairs).items()
            return dict(pairs) if tag == "D" else _OrderedDict(pairs) if tag == "OD" else _Counter(dict(pairs))
        if tag in ("S", "FS", "DK"):
            items = [_decode(x, depth + 1, state) for x in body]
            if any(isinstance(x, Opaque) for x in items):  # unhashable here, as unequal to all
                return Opaque("set with an item that cannot be compared")
            if hash_collisions(items, state.comparisons()) > MAX_HASH_COLLISIONS:
                return Opaque("set whose items' hashes collide (too costly to judge)")
            if tag == "DK":
                return dict.fromkeys(items).keys()  # a genuine view, in the program's order
            return set(items) if tag == "S" else frozenset(items)
        if tag == "DV":
            return dict(enumerate(_decode(x, depth + 1, state) for x in body)).values()
        if tag == "RG":
            start, stop, step = (_decode(x, depth + 1, state) for x in body)
            if type(start) is not int or type(stop) is not int or type(step) is not int or not step:
                raise DecodeError("a range's parts are ints, its step not 0")
            return range(start, stop, step)
        if tag == "B":
            return bytes.fromhex(body)
        if tag == "BA":
            return bytearray.fromhex(body)
        if tag == "C":
            real, imag = _decode(body[0], depth + 1, state), _decode(body[1], depth + 1, state)
            if type(real) is not float or type(imag) is not float:
                raise DecodeError("a complex's parts are floats")
            return complex(real, imag)
        if tag == "Q":
            from fractions import Fraction

            num, den = _decode(body[0], depth + 1, state), _decode(body[1], depth + 1, state)
            if isinstance(num, Opaque) or isinstance(den, Opaque):
                return Opaque("Fraction (too large to judge)")
            if type(num) is not int or type(den) is not int or den == 0:
                raise DecodeError("a Fraction's parts are ints, its denominator not 0")
            state.rebuilt("Fraction", max(num.bit_length(), den.bit_length()))
            # As the program held it, not reduced again: a Fraction made with _normalize=False
            # stays unreduced in CPython too (and compares so), and reducing it here would cost
            # the trusted side a gcd quadratic in its bits that the program chose not to pay.
            value = object.__new__(Fraction)
            value._numerator, value._denominator = num, den
            return value
        if tag == "DEC":
            state.rebuilt("Decimal", len(body))
            from decimal import Decimal

            value = Decimal(body)
            if value.is_finite() and (
                abs(value.adjusted()) > MAX_DECIMAL_EXPONENT or len(value.as_tuple().digits) > MAX_DECIMAL_EXPONENT
            ):
                return Opaque("Decimal (too large to judge)")
            return value
        if tag == "DT":
            return _datetime_decoded(body)
        if tag == "SR" and state.shared is not None:  # see encode(shared=True)
            if type(body) is not int or body not in state.shared:
                raise DecodeError("malformed shared value")
            return state.shared[body]
        if tag == "X":
            return Opaque(str(body))
        if tag == "XT":
            return TruthyOpaque(str(body))
    except (DecodeError, TooCostlyToDecode):
        raise
    except Exception as exc:
        raise DecodeError("malformed value: %s" % exc) from None
    raise DecodeError("unknown value tag %r" % tag)
