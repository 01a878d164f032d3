"""Facts and verdicts as plain data: the only format review-lint reads from disk.

The cache folder sits in the reviewed repository, or is restored from a CI cache
that another branch's run wrote: it is untrusted input. Pickle would run whatever
a planted file says, so the cache is MessagePack (strings, numbers, arrays and
maps only) rebuilt into the known fact classes by decoders generated from their
type annotations. A file that does not decode is a miss, never an object of a
type nobody asked for. Pickle still carries facts between this process and the
workers it forked, and is never read from a file.

Facts share objects (one Value per distinct name in a file; a Call is both in
its function's calls and in the Value of the expression it is): rules compare
some of them by identity. So every fact object is numbered in pre-order as it
is written, and a later occurrence is written as its number; the decoder numbers
objects in the same order and resolves the number to the same object.

A Value's or Call's text that its source file gives back from the fact's span is
written as nil, and read from the file when a rule reads it (texts.py). A field
that judgement seldom reads (`deferred` in facts.py) may be written as the bytes of
its own encoding, left encoded when the file is decoded and decoded on its first
read (`_Generator.deferred_field`).
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import struct
import types
import typing
import zlib
from typing import Any

import msgpack

from . import diagnostics, facts
from .texts import TextsOf


class CodecError(ValueError):
    """Bytes that are not what this version of review-lint writes."""


# Every class the cache may hold; nothing else is ever built from its bytes.
_CLASSES: tuple[type, ...] = (
    facts.Value, facts.Call, facts.Annotation, facts.Param, facts.Block, facts.Binding, facts.Assert, facts.Exit,
    facts.Function, facts.Field, facts.Class, facts.Import, facts.Problem, facts.ModuleFacts,
    diagnostics.Related, diagnostics.Diagnostic,
)


def _plain(value: Any) -> Any:
    """An untyped field (a fix's description) back to lists and dicts of scalars."""
    if type(value) is tuple:
        return [_plain(v) for v in value]
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise CodecError(f"unexpected {type(value).__name__} in a plain field")


def _enc_shared(value: Any, m: dict, kind: type) -> Any:
    """A string or span the file has written before is written as its number: names,
    callees, the text and span a Call and its Value both hold repeat within a file, and
    decode as one object. (The memo's other keys are object ids: ints, never equal to these.)
    A string field may hold another scalar (a bytes literal's value as a dict key): it is
    written boxed in a list of one, so that a number is never mistaken for a reference."""
    if value.__class__ is not kind:
        if kind is tuple or value.__class__ not in _BOXED:
            raise TypeError(f"a {type(value).__name__} in a {kind.__name__} field")
        return [value]
    return _numbered(value, m)


def _numbered(value: Any, m: dict) -> Any:
    """`value` the first time the file writes it, numbered with the fact objects in the
    same pre-order; its number after that."""
    number = m.get(value)
    if number is not None:
        return number
    m[value] = len(m)
    return value


_BOXED = frozenset({bytes, int, float, bool, type(None)})


def _dec_shared(value: Any, t: _Table, kind: type) -> Any:
    if value.__class__ is kind:
        if kind is tuple:
            if len(value) == 1:  # a boxed scalar is no span
                raise CodecError("a span field holds a boxed scalar")
            return _dec_first_numbers(value, t)
        if t.shared is not None:
            value = t.shared.setdefault(value, value)
        t.append(value)
        return value
    if kind is str and value.__class__ is tuple:
        if len(value) != 1 or value[0].__class__ not in _BOXED:
            raise CodecError("a string field holds a list that is no boxed scalar")
        return value[0]
    try:
        found = t[value]
    except (TypeError, IndexError):
        raise CodecError(f"a {kind.__name__} field holds neither a {kind.__name__} nor the number of one") from None
    if found.__class__ is not kind:
        raise CodecError(f"reference to a {type(found).__name__} where a {kind.__name__} belongs")
    return found


class _Memo(dict):
    """The encoder's numbering of one file (or of a field written apart: _apart), the
    texts its source gives back (or None), whether a deferred field may be written apart,
    and whether a Call it has not numbered may be written (not in a field written apart)."""

    __slots__ = ("texts", "defer", "sealed")


class _Table(list):
    """The decoder's numbered objects of one file, where its texts are (or None), and the
    strings and int tuples of the batch of files decoded with it (or None): see `Shared`."""

    __slots__ = ("texts", "shared")


class Shared(dict):
    """The first string or int tuple of each value decoded in a batch of files, which the
    later files' equal ones become: a file writes each string and tuple once, but "self",
    "request", a kind and a block tuple repeat across files (sharing them takes a tenth
    off Django's decoded facts). A batch's table is kept only while the batch decodes: its
    own entries would cost more than the values it shares once nothing more is decoded.
    The deferred fields decoded while judging share one bounded table of the process
    instead (_deferred_shared)."""

    __slots__ = ()


# What deferred fields decoded while judging share (Shared): at 10,000 files, 139,000 of
# the 160,000 strings they decode are equal to one decoded before (7 MB). Emptied once it
# holds _DEFERRED_SHARED_MOST values, so that a long-lived process does not keep every
# value it ever decoded.
_DEFERRED_SHARED = Shared()
_DEFERRED_SHARED_MOST = 1 << 16


def _deferred_shared() -> Shared:
    if len(_DEFERRED_SHARED) > _DEFERRED_SHARED_MOST:
        _DEFERRED_SHARED.clear()
    return _DEFERRED_SHARED


def _sized(items: list) -> list:
    """`items` in a list of their own size: a comprehension's list keeps room to grow, and
    the facts' 411,000 lists held 7.5 MB of it at 10,000 files."""
    sized = [None] * len(items)
    sized[:] = items  # as long: copied in place, the size kept
    return sized


def _enc_text(fact: Any, text: Any, m: _Memo) -> Any:
    """A Value's or Call's text: nil when the file's source gives it back from the fact's
    span (texts.py), else written as any string is."""
    if text.__class__ is not str:
        text = fact.text  # still in its file (decoded facts written again): read it
    if text and m.texts is not None and m.texts(fact._span) == text:
        return None
    return _enc_shared(text, m, str)


def _dec_text(value: Any, t: _Table) -> Any:
    if value is None:
        if t.texts is None:
            raise CodecError("its texts are in its source file, which was not named")
        return t.texts
    return _dec_shared(value, t, str)


def _enc_numbers(value: tuple[int, ...], m: dict) -> Any:
    """A tuple of ints (the blocks a fact is in) the file has written before is written as
    its number: the calls of one block hold equal tuples, decoded as one. (An equal span
    tuple shares the number: both are the same immutable numbers.)"""
    if value.__class__ is not tuple:
        raise TypeError(f"a {type(value).__name__} in a tuple field")
    return _numbered(value, m) if value else value  # () is one object already


def _dec_first_numbers(value: tuple, t: _Table) -> tuple[int, ...]:
    """A tuple of ints met for the first time in the file: numbered, and the one equal
    tuple of the files decoded before it in the batch (ints only: `(1,) == (1.0,)`)."""
    if t.shared is not None:
        for number in value:
            if number.__class__ is not int:
                break
        else:
            value = t.shared.setdefault(value, value)
    t.append(value)
    return value


def _dec_tuple(value: tuple, t: _Table) -> tuple:
    """A decoded tuple of strings (names a block narrows, a condition): the batch's equal
    one when there is one. Only of exact strs and ints, whose equality is identity of
    content (True == 1, and a boxed scalar may stand in a string field)."""
    if t.shared is not None:
        for item in value:
            if item.__class__ is not str and item.__class__ is not int:
                return value
        return t.shared.setdefault(value, value)
    return value


def _dec_numbers(value: Any, t: list) -> tuple[int, ...]:
    """The tuple a number written by _enc_numbers stands for (a tuple written out is
    taken, and numbered, inline by the generated decoder)."""
    try:
        found = t[value]
    except (TypeError, IndexError):
        raise CodecError("a tuple field holds neither a tuple nor the number of one") from None
    if found.__class__ is not tuple:
        raise CodecError(f"reference to a {type(found).__name__} where a tuple belongs")
    return found


class _Shared(Exception):
    """A Call met while writing a field apart that its numbering does not hold."""


def _apart(m: _Memo, calls: list, texts: TextsOf | None, nested: bool) -> _Memo:
    """The numbering a deferred field is written in: its own, with the file's texts,
    beginning with `calls` (its function's, which the decoder numbers first too). A Call
    is in its function's calls and in the Value of its expression, and rules compare
    Calls by identity: any other Call met there raises _Shared, and the field is written
    with the rest of the file. Fields nested in it are written apart again only when
    `nested` (a function's fields, which hold Values, not a Value's)."""
    inner = _Memo()
    inner.texts, inner.defer, inner.sealed = texts, nested, True
    for call in calls:
        inner[id(call)] = len(inner)
    return inner


# What a fact object decoded costs, with its packed span, about (a leaf Value is 64 bytes,
# a Call 96-128, a span 32), and what bytes held for a field cost beside their length.
_OBJECT_BYTES, _BYTES_HEADER, _WRAPPER_BYTES = 96, 33, 48


def _worth_it(blob: bytes, inner: _Memo, m: _Memo, wrapped: bool) -> bool:
    """Whether holding `blob` costs less than the objects it would decode as inline: those
    the field's numbering made that the file's had not (a name's Value is shared by a
    file: written before, it costs nothing more inline)."""
    fresh = sum(1 for key in inner if key.__class__ is int and key not in m)
    return len(blob) + _BYTES_HEADER + (_WRAPPER_BYTES if wrapped else 0) < fresh * _OBJECT_BYTES


def _on_damage(default: Any) -> Any:
    """What a deferred field whose bytes do not decode reads as: its default. The file's
    checksum catches damage before that; bytes that pass it and still do not decode were
    written so on purpose, and facts from such a file are only ever wrong facts.
    REVIEW_LINT_STRICT_DEFERRED=1 (the tests) raises instead, so that no bug of ours hides."""
    if os.environ.get("REVIEW_LINT_STRICT_DEFERRED"):
        raise
    return default


def _text_left(fact: Any, m: _Memo) -> bool:
    """Whether the encoder leaves `fact`'s text in the file (as _enc_text decides)."""
    if m.texts is None:
        return False
    text = fact.text
    return bool(text) and m.texts(fact._span) == text


def _texts_of(fact: Any) -> facts.LazyText | None:
    """Where a decoded fact's texts are, when it left its own in the file."""
    held = fact._text
    return held if isinstance(held, facts.LazyText) else None


def _dec_span(value: Any) -> int | facts.Span:
    """A Record's span as written: packed (an int), or a tuple that did not fit."""
    if value.__class__ is int and 0 <= value < 1 << facts.PACKED_SPAN_BITS:
        return value
    if value.__class__ is tuple and len(value) == 4 and all(part.__class__ is int for part in value):
        return facts.pack_span(value)
    raise CodecError("a span field holds neither a packed span nor four numbers")


class _Generator:
    """Writes, once per process, an encoder and a decoder per class as Python source:
    scalar fields are passed through inline, so a Value costs one call each way."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"_new": object.__new__, "_plain": _plain,
                                          "_frozenset": frozenset, "_sorted": sorted, "_id": id,
                                          "_enc_shared": _enc_shared, "_dec_shared": _dec_shared,
                                          "_dec_first_numbers": _dec_first_numbers, "_dec_tuple": _dec_tuple, "_dec_span": _dec_span,
                                          "_deferred_shared": _deferred_shared, "_sized": _sized,
                                          "_enc_numbers": _enc_numbers, "_dec_numbers": _dec_numbers,
                                          "_enc_text": _enc_text, "_dec_text": _dec_text,
                                          "CodecError": CodecError, "_empty": facts.EMPTY_LIST,
                                          "_Deferred": facts.Deferred, "_Shared": _Shared,
                                          "_apart": _apart, "_Table": _Table, "_worth_it": _worth_it,
                                          "_text_left": _text_left, "_texts_of": _texts_of,
                                          "_on_damage": _on_damage,
                                          "_unpack": lambda blob: _unpack(blob),
                                          "_pack": lambda encoded: msgpack.packb(encoded, **_PACK)}
        self.deferred: list[str] = []  # "Family.field" of each deferred field's decoder
        self.lines: list[str] = []
        self.helpers: dict[str, str] = {}  # repr(type) -> helper name
        self.names = {cls: cls.__name__ for cls in _CLASSES}
        for cls in _CLASSES:
            self.namespace[cls.__name__] = cls

    # -- one field: (encode expression, decode expression) of a local name --
    def field(self, hint, name: str) -> tuple[str, str]:
        """Expressions that encode / decode the value held by `name`; identity is `name` itself."""
        if hint is str:
            return f"_enc_shared({name}, m, str)", f"_dec_shared({name}, t, str)"
        if hint in (int, float, bool, type(None)):
            return name, name
        if hint is Any:
            return name, f"_plain({name})"
        if hint in self.names:
            cls = self.names[hint]
            return f"enc_{cls}({name}, m)", f"dec_{cls}({name}, t)"
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            kept = [a for a in args if a is not type(None)]
            if len(kept) != 1:
                raise TypeError(f"cannot encode {hint}")
            encode, decode = self.field(kept[0], name)
            if encode == name and decode == name:
                return name, name
            return (f"(None if {name} is None else {encode})", f"(None if {name} is None else {decode})")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            if args[0] is int:  # a fact's blocks: equal within a file, written once (inline: one per fact)
                return (f"_enc_numbers({name}, m)",
                        f"(_dec_numbers({name}, t) if {name}.__class__ is not tuple else {name} if not {name} "
                        f"else _dec_first_numbers({name}, t))")
            encode, decode = self.element(args[0])
            if encode is None:
                return name, name  # a tuple of scalars is packed and unpacked as it is
            decoded = f"tuple([{decode}(e, t) for e in {name}])"
            if args[0] is str:  # names: shared across the batch's files (facts never are)
                decoded = f"_dec_tuple({decoded}, t)"
            return f"[{encode}(e, m) for e in {name}]", f"({decoded} if {name} else ())"
        if origin is tuple:
            if all(a is int for a in args):  # a span: unpacked as a tuple already, shared like a string
                return f"_enc_shared({name}, m, tuple)", f"_dec_shared({name}, t, tuple)"
            helper = self.fixed_tuple(hint, args)
            return f"enc_{helper}({name}, m)", f"dec_{helper}({name}, t)"
        if origin is list:  # an empty one decodes as the one read-only EMPTY_LIST
            encode, decode = self.element(args[0])
            if encode is None:
                return name, f"(list({name}) if {name} else _empty)"
            return f"[{encode}(e, m) for e in {name}]", f"(_sized([{decode}(e, t) for e in {name}]) if {name} else _empty)"
        if origin is frozenset:
            return f"_sorted({name})", f"_frozenset({name})"
        if origin is dict:
            if args[0] not in (str, int):
                raise TypeError(f"cannot encode {hint}: keys must be scalars")  # written as they are
            encode, decode = self.element(args[1])
            if encode is None:
                return name, f"dict({name})"
            return (f"{{k: {encode}(v, m) for k, v in {name}.items()}}",
                    f"{{k: {decode}(v, t) for k, v in {name}.items()}}")
        raise TypeError(f"cannot encode {hint}")

    def element(self, hint) -> tuple[str | None, str | None]:
        """Names of functions encoding / decoding one element; (None, None) for identity."""
        encode, decode = self.field(hint, "x")
        if encode == "x" and decode == "x":
            return None, None
        key = repr(hint)
        if key not in self.helpers:
            helper = self.helpers[key] = f"h{len(self.helpers)}"
            self.lines += [f"def enc_{helper}(x, m):", f"    return {encode}",
                           f"def dec_{helper}(x, t):", f"    return {decode}"]
        helper = self.helpers[key]
        return f"enc_{helper}", f"dec_{helper}"

    def fixed_tuple(self, hint, args) -> str:
        key = repr(hint)
        if key not in self.helpers:
            helper = self.helpers[key] = f"h{len(self.helpers)}"
            names = [f"a{i}" for i in range(len(args))]
            pairs = [self.field(a, n) for a, n in zip(args, names)]
            unpack = ", ".join(names) + ","
            decoded = f"({', '.join(d for _, d in pairs)},)"
            if all(a in (str, int) for a in args):  # names: shared across the batch's files (facts never are)
                decoded = f"_dec_tuple({decoded}, t)"
            self.lines += [f"def enc_{helper}(x, m):", f"    {unpack} = x",
                           f"    return ({', '.join(e for e, _ in pairs)},)",
                           f"def dec_{helper}(x, t):", f"    {unpack} = x",
                           f"    return {decoded}"]
        return self.helpers[key]

    # -- one class ----------------------------------------------------------
    def cls(self, cls: type) -> None:
        hints = typing.get_type_hints(cls, vars(__import__(cls.__module__, fromlist=["_"])))
        if issubclass(cls, facts.Record):
            names = list(cls._fields)
        else:
            names = [f.name for f in dataclasses.fields(cls)]
        pairs = [self.field(hints[n], f"f_{n}") for n in names]
        held = list(names)  # the attribute each field is held in
        if issubclass(cls, facts.Record) and "span" in names:  # written packed, as it is held
            pairs[names.index("span")] = ("f_span", "_dec_span(f_span)")
            held[names.index("span")] = "_span"
        if issubclass(cls, facts.Record) and "text" in names:  # nil when it is left in the file (texts.py)
            pairs[names.index("text")] = ("_enc_text(o, f_text, m)", "_dec_text(f_text, t)")
            held[names.index("text")] = "_text"
        for n in cls.__dict__.get("deferred", ()) if issubclass(cls, facts.Record) else ():
            helper = self.deferred_field(cls, n, hints[n])
            held_as = f"_Deferred(f_{n}, t.texts)" if "calls" in names else f"f_{n}"
            pairs[names.index(n)] = (f"enc_{helper}(f_{n}, m, o)",
                                     f"({held_as} if f_{n}.__class__ is bytes else {pairs[names.index(n)][1]})")
            held[names.index(n)] = "_" + n
        local = ", ".join(f"f_{n}" for n in names) + ","
        name = cls.__name__
        shaped = "shapes" in vars(cls)  # a family of shapes (facts._RecordType)
        read = "\n".join(f"    f_{n} = o.{h}" for n, h in zip(names, held))
        self.lines += [
            f"def enc_{name}(o, m):",
            "    i = m.get(_id(o))",
            "    if i is not None:",
            "        return i",
            *(["    if m.sealed:", "        raise _Shared"] if cls is facts.Call else []),
            "    m[_id(o)] = len(m)",
            read,
            f"    return [{', '.join(e for e, _ in pairs)}]",
            f"def dec_{name}(v, t):",
            "    if v.__class__ is int:",
            "        o = t[v]",
            f"        if {'not isinstance(o, ' + name + ')' if shaped else 'o.__class__ is not ' + name}:",
            f"            raise CodecError('reference to a ' + type(o).__name__ + ' where a {name} belongs')",
            "        return o",
        ]
        if shaped:
            # The shape follows from the fields as written: a field at its default (None,
            # False, an empty tuple) is written as that default, so the raw value tells.
            self.namespace[f"_shape_by_mask_{name}"] = cls._shape_by_mask
            self.namespace.update((f"_default_{name}_{n}", default) for n, default in cls._optional)
            mask = facts.mask_expression(cls._optional, lambda n: f"f_{n}", lambda n: f"_default_{name}_{n}")
            self.lines += [f"    {local} = v", f"    shape = _shape_by_mask_{name}[{mask}]",
                           "    o = _new(shape)", "    t.append(o)"]
            decode_of = dict(zip(held, (d for _, d in pairs)))
            for index, shape in enumerate(cls._shapes):  # each shape's fields set inline, in field order
                self.namespace[f"_{name}_shape{index}"] = shape
                self.lines.append(f"    {'if' if index == 0 else 'elif'} shape is _{name}_shape{index}:")
                self.lines += [f"        o.{slot} = {decode_of[slot]}" for slot in shape.__slots__]
                if "call" in shape.__slots__ and "_span" in shape.__slots__:
                    # A call's Value and the Call have one span (123,000 on a quarter of
                    # the scale tree): one packed int for both.
                    self.lines += ["        c = o.call",
                                   "        if c is not None and c._span == o._span:",
                                   "            o._span = c._span"]
        else:
            self.lines += [f"    o = _new({name})", "    t.append(o)", f"    {local} = v"]
            self.lines += [f"    o.{h} = {d}" for h, (_, d) in zip(held, pairs)]
        self.lines.append("    return o")

    def deferred_field(self, cls: type, name: str, hint) -> str:
        """Writes the encoder and decoder of a deferred field (facts.Deferred).

        The field's value is written as the bytes of its own encoding, numbered apart
        (`_apart`), when that costs less memory than its decoded objects would: decoding
        the file leaves the bytes as they are, and the field's first read decodes them.
        Where its texts are: a function's fields hold the bytes and the file's texts in a
        Deferred (one per field of a function); a Value's elements hold the bytes alone,
        and take the texts from their Value (which then must have left its own in the
        file); a Block's test holds the bytes alone, its texts written whole. Damaged
        bytes (which the file's checksum would have caught first) read as the default."""
        helper = f"deferred_{cls.__name__}_{name}"
        encode, decode = self.field(hint, "x")
        default = cls._defaults[name]
        self.namespace[f"_default_{helper}"] = facts.EMPTY_LIST if isinstance(default, dataclasses.Field) else default
        calls = "o.calls" if "calls" in cls._fields else "()"  # a function's fields number its calls first
        wrapped, owned = "calls" in cls._fields, "text" in cls._fields
        texts = "m.texts" if wrapped else "(m.texts if _text_left(o, m) else None)" if owned else "None"
        self.lines += [
            f"def enc_plain_{helper}(x, m):",
            f"    return {encode}",
            f"def enc_{helper}(x, m, o):",
            "    if x.__class__ is _Deferred or x.__class__ is bytes:",  # decoded facts written again:
            f"        x = o._{name}",  # reading the fact's text may have decoded them since
            "        if x.__class__ is _Deferred or x.__class__ is bytes:",
            f"            x = dec_{helper}(x, o)",
            "    if x and m.defer:",
            f"        inner = _apart(m, {calls}, {texts}, {wrapped})",
            "        try:",
            f"            blob = _pack(enc_plain_{helper}(x, inner))",
            "        except _Shared:",
            "            blob = None",
            f"        if blob is not None and _worth_it(blob, inner, m, {wrapped}):",
            "            return blob",
            *([] if wrapped else [
                # Written with the file after all: the fields nested in it are not tried
                # apart again, so that each Value of a deep expression is written at most twice.
                "        m.defer = False",
                "        try:",
                f"            return enc_plain_{helper}(x, m)",
                "        finally:",
                "            m.defer = True"]),
            f"    return enc_plain_{helper}(x, m)",
            f"def dec_{helper}(d, o):",
            f"    t = _Table({calls})",
            "    t.shared = _deferred_shared()",
            "    t.texts = " + ("d.texts" if wrapped else "_texts_of(o)" if owned else "None"),
            "    try:",
            f"        x = _unpack({'d.blob' if wrapped else 'd'})",
            f"        return {decode}",
            "    except Exception:",
            f"        return _on_damage(_default_{helper})",
        ]
        self.deferred.append(f"{cls.__name__}.{name}")
        return helper

    def build(self) -> dict[str, Any]:
        for cls in _CLASSES:
            self.cls(cls)
        exec("\n".join(self.lines), self.namespace)  # noqa: S102 - source generated above from our own classes
        for key in self.deferred:
            family, name = key.split(".")
            facts.DEFERRED_DECODERS[key] = self.namespace[f"dec_deferred_{family}_{name}"]
        return self.namespace


_CODE = _Generator().build()
_encode_facts = _CODE["enc_ModuleFacts"]
_decode_facts = _CODE["dec_ModuleFacts"]
_encode_diagnostic = _CODE["enc_Diagnostic"]
_decode_diagnostic = _CODE["dec_Diagnostic"]

# Lone surrogates are real in facts: file names as the file system holds them
# (surrogate-escaped) and string literals that spell one with an escape.
_UNPACK = {"use_list": False, "strict_map_key": False, "raw": False, "unicode_errors": "surrogatepass"}
_PACK = {"use_bin_type": True, "unicode_errors": "surrogatepass"}


def _unpack(blob: bytes) -> Any:
    try:
        return msgpack.unpackb(blob, **_UNPACK)
    except Exception as error:  # noqa: BLE001 - msgpack raises several kinds on damaged bytes
        raise CodecError(f"not MessagePack: {type(error).__name__}") from None


def dump_facts(module: facts.ModuleFacts, source: str | None = None) -> bytes:
    return dump_facts_or_failure(module, source)[0]


def dump_facts_or_failure(module: facts.ModuleFacts, source: str | None = None) -> tuple[bytes, bool]:
    """(the encoded facts, True), or when they cannot be encoded, the encoded RL999 that
    says so, and False. Given the `source` the facts were extracted from, each text it
    gives back from its fact's span is left out (texts.py): decoding then needs the file."""
    try:
        return msgpack.packb(_encode_facts(module, _memo(source)), **_PACK), True
    except Exception as error:  # noqa: BLE001 - in a worker, this must not lose its other files
        failed = facts.ModuleFacts(path=module.path)
        failed.problems.append(facts.Problem("RL999", f"the facts of this file could not be stored: "
                                                      f"{type(error).__name__}"))
        return msgpack.packb(_encode_facts(failed, _memo(None)), **_PACK), False


def _memo(source: str | None) -> _Memo:
    memo = _Memo()
    memo.texts = TextsOf(source) if source is not None else None
    memo.defer, memo.sealed = True, False
    return memo


def load_facts(blob: bytes | memoryview, texts: facts.LazyText | None = None,
               shared: Shared | None = None) -> facts.ModuleFacts:
    """The facts `blob` encodes; `texts` stands for the texts left in the file (texts.SourceText);
    `shared`: the strings and tuples of the files decoded with it (one Shared per batch)."""
    data = _unpack(blob)
    table = _Table()
    table.texts = texts
    table.shared = shared
    try:
        return _decode_facts(data, table)
    except CodecError:
        raise
    except Exception as error:  # noqa: BLE001 - any shape the decoder did not expect
        raise CodecError(f"not the facts of a file: {type(error).__name__}") from None


def dump_judgement(judgement: tuple[list[diagnostics.Diagnostic], int]) -> list:
    found, internal = judgement
    memo: dict[int, int] = {}
    return [[_encode_diagnostic(d, memo) for d in found], internal]


def load_judgement(data: Any) -> tuple[list[diagnostics.Diagnostic], int]:
    try:
        found, internal = data
        table = _Table()
        table.texts = table.shared = None
        decoded = [_decode_diagnostic(d, table) for d in found]
    except CodecError:
        raise
    except Exception as error:  # noqa: BLE001
        raise CodecError(f"not a judgement: {type(error).__name__}") from None
    if type(internal) is not int:
        raise CodecError("not a judgement: its internal-error count is not a number")
    return decoded, internal


# -- files: a header, a checksum, a body --------------------------------------
# The checksum finds damage (a truncated, zero-filled or half-written file); it is
# no signature, and needs none: whatever decodes is only ever facts. CRC-32 reads
# Django's 10 MB cache in 3 ms, BLAKE2b in 11 ms.
# The container (header, checksum, index). How entries encode facts changes with the code,
# and the head's schema (collect.code_fingerprint) tells that: another version's file is
# rebuilt without a warning, which a new MAGIC here would print.
MAGIC = b"review-lint cache v2\n"
_HEADER = struct.Struct("<IQ")  # CRC-32 of the body, length of the body


def _sealed(body: bytes) -> bytes:
    return b"".join(_sealed_parts([body]))


def _sealed_parts(body: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """The parts of a sealed file whose body is the parts `body`, in order."""
    checksum = 0
    for part in body:
        checksum = zlib.crc32(part, checksum)
    return [MAGIC + _HEADER.pack(checksum, sum(len(part) for part in body)), *body]


def _body(data: bytes | mmap.mmap) -> memoryview:
    if data[:len(MAGIC)] != MAGIC:
        raise CodecError("not a review-lint cache file of this format")
    start = len(MAGIC) + _HEADER.size
    if len(data) < start:
        raise CodecError("its checksum does not match (truncated or damaged)")
    checksum, length = _HEADER.unpack_from(data, len(MAGIC))
    body = memoryview(data)[start:]
    if len(body) != length or zlib.crc32(body) != checksum:
        raise CodecError("its checksum does not match (truncated or damaged)")
    release_pages(data)  # the checksum read every page of a mapped file
    return body


def release_pages(data: object) -> None:
    """Give back the resident pages of a mapped cache file (`data`, or the file a view of
    it shows). Its mapping is read-only and backed by the file, so a page read again
    after this is read from the file again, unchanged: nothing is lost, only memory."""
    if isinstance(data, memoryview):
        data = data.obj
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def seal(payload: Any) -> bytes:
    """The bytes of one cache file holding `payload` (plain data)."""
    return _sealed(msgpack.packb(payload, **_PACK))


def unseal(data: bytes) -> Any:
    """The payload of a cache file; CodecError when anything about it is off
    (another format, a truncated, zero-filled or altered file)."""
    return _unpack(_body(data))


def seal_entries(head: dict[str, Any], entries: dict[str, bytes]) -> bytes:
    """A cache file of many encoded entries: a small MessagePack head (the keys and
    sizes) followed by the entries' bytes as they are, so that loading one costs a
    slice, not a parse."""
    return b"".join(sealed_entries_parts(head, entries))


def sealed_entries_parts(head: dict[str, Any], entries: dict[str, bytes | memoryview]) -> list[bytes | memoryview]:
    """`seal_entries`'s bytes as the parts to write one after the other: the cache of a
    large project is never joined in memory (at 10,000 files it is 180 MB, twice over)."""
    keys = list(entries)
    index = msgpack.packb({**head, "keys": keys, "sizes": [len(entries[k]) for k in keys]}, **_PACK)
    return _sealed_parts([struct.pack("<Q", len(index)), index, *entries.values()])


def unseal_entries(data: bytes | mmap.mmap) -> tuple[dict[str, Any], dict[str, memoryview]]:
    """(head, key -> entry bytes) of a file written by `seal_entries`. Each entry is a view
    of `data`, not a copy: the file's bytes are one allocation (or one mapping of the file),
    returned to the system whole once the last entry is dropped (copies would be thousands
    of small ones that stay in the process's heap after their facts are decoded)."""
    body = _body(data)
    if len(body) < 8:
        raise CodecError("its index is missing")
    (length,) = struct.unpack_from("<Q", body)
    head = _unpack(body[8:8 + length])
    if not isinstance(head, dict):
        raise CodecError("its index is not a map")
    keys, sizes = head.pop("keys", None), head.pop("sizes", None)
    if (type(keys) is not tuple or type(sizes) is not tuple or len(keys) != len(sizes)
            or not all(type(k) is str for k in keys) or not all(type(s) is int and s >= 0 for s in sizes)):
        raise CodecError("its index is not a list of entries")
    entries: dict[str, memoryview] = {}
    at = len(data) - len(body) + 8 + length
    view = memoryview(data)
    for key, size in zip(keys, sizes):
        entries[key] = view[at:at + size]
        at += size
    if at != len(data):
        raise CodecError("its entries do not fill the file")
    return head, entries
