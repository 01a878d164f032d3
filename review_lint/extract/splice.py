"""Re-extracting one function after an edit inside its body (the language server).

Extracting a large module costs a few hundred milliseconds (Django's 2,820-line
`query.py`: LibCST's parse 170 ms, the facts and their positions 130 ms), and an edit
in an editor almost always stays inside one function body. So when the new text
differs from the last one extracted only inside the body of one function (compared
line by line), `splice` parses that function alone, walks it with the same code as
a full extraction, in the same context (its qualified name, its class, the block and
group numbers the walk had reached there), and puts its facts in place of the old
ones: everything after it moves by the number of lines added, the blocks numbered
after it by the number of blocks added, and what encloses it ends where it now ends.

The result must equal a full extraction of the new text, fact for fact
(tests/test_splice.py checks it on many real functions and edits). Whenever that is
not certain, `splice` returns None and the caller extracts the whole module:

- the change is not inside one function's body: it touches the `def` line, the
  decorators or the signature, crosses the end of the function, or lies outside
  every function;
- the function's body is not an indented block, or its lines hold a tab, a form
  feed or a lone carriage return (indentation that a fragment could read otherwise);
- the function alone does not parse as one `def` with the same name (the edit left a
  syntax error, dedented a line out of the function, opened a bracket or a string);
- the file would be measured by CPython's parser before LibCST (source.refusal) and
  the last text was not, or the function fails that measure;
- the old facts hold a problem, or their block numbers are not what the walk gives.

Suppression comments are read again from the whole new text (a regular expression
over its lines): they cost nothing next to a parse.
"""

from __future__ import annotations

import dataclasses
import sys
import tokenize

import libcst as cst

from ..facts import NO_SPAN, Binding, Block, Call, Class, Exit, Field, Function, Import, ModuleFacts, Value, replace
from ..positions import LineIndex
from ..source import _RECURSION_LIMIT, MAX_DEPTH, _compile, suspect, syntax_depth
from ..texts import split_lines
from . import Extractor
from .suppressions import suppressions
from .walk import _Scope

# A function's subtree nests a few levels deeper in its file than in the fragment
# parsed alone (`if 1:` around it): the fragment must stay this far below the limit.
_DEPTH_MARGIN = 200



class Extraction:
    """A module's text and, once extracted, its facts: what the next edit splices into."""

    __slots__ = ("source", "facts", "_lines", "_suspect", "checked")

    def __init__(self, source: str, facts: ModuleFacts | None = None) -> None:
        self.source = source
        self.facts = facts
        self._lines: list[str] | None = None
        self._suspect: bool | None = None
        # Whether CPython's parser is known to accept every part of the text (as
        # source.refusal asks of a text the cheap scan cannot clear): a suspect text
        # that was extracted, or one spliced from such a text with the new part checked.
        self.checked: bool | None = None

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.source)
        return self._lines

    def suspect(self) -> bool:
        if self._suspect is None:
            self._suspect = suspect(self.source)
        return self._suspect

    def known_to_compile(self) -> bool:
        if self.checked is None:
            self.checked = self.suspect()  # extracted in full: refusal compiled it when suspect
        return self.checked


class _FragmentExtractor(Extractor):
    """An Extractor over one function's text that stands `shift` lines down its file."""

    def __init__(self, path: str, source: str, module: cst.Module, shift: int) -> None:
        super().__init__(path, source, module)
        self.shift = shift

    def _line_starts(self) -> list[int]:
        # Offsets are the fragment's; `shift` lines of length one before its first
        # line make every line number the file's, and leave the columns alone.
        return [*range(-self.shift, 0), *LineIndex(self.source).starts]


def splice(previous: Extraction, new: Extraction) -> ModuleFacts | None:
    """The facts of `new.source`, made from `previous` by re-extracting the one function
    whose body holds every changed line; None when that cannot be done exactly (see above).

    On success the facts `previous` holds have been changed in place (their spans and
    block numbers) and are spent: only the returned facts are valid, and `new` holds them.
    On failure nothing was changed."""
    old, source = previous.facts, new.source
    if old is None or old.problems or "\x00" in source:
        return None
    if source == previous.source:
        new.facts = old
        return old
    old_lines, new_lines = previous.lines(), new.lines()
    n_old, n_new = len(old_lines), len(new_lines)
    shortest = min(n_old, n_new)
    same_start = 0
    while same_start < shortest and old_lines[same_start] == new_lines[same_start]:
        same_start += 1
    same_end = 0
    while (same_end < shortest - same_start
           and old_lines[n_old - 1 - same_end] == new_lines[n_new - 1 - same_end]):
        same_end += 1
    edit = _Edit(first=same_start + 1, old_last=n_old - same_end, delta=n_new - n_old)
    functions = old.functions
    # Every function whose lines hold the change, innermost first.
    holders = sorted(
        (index for index, function in enumerate(functions)
         if function.qualname != "<module>" and 0 < function.span[0] < edit.first
         and edit.old_last <= function.span[2]),
        key=lambda index: functions[index].span[:2], reverse=True)
    for index in holders[:3]:
        facts = _Splice(previous, new, edit, index).run()
        if facts is not None:
            new.facts = facts
            return facts
    return None


@dataclasses.dataclass(frozen=True)
class _Edit:
    first: int  # the first changed line (1-based, the same in both texts)
    old_last: int  # the last changed line of the old text (first - 1: lines were only inserted)
    delta: int  # lines added (negative: removed)


class _Splice:
    """One attempt: re-extract functions[index] of the old facts from the new text."""

    def __init__(self, previous: Extraction, new: Extraction, edit: _Edit, index: int) -> None:
        self.previous, self.new, self.edit, self.index = previous, new, edit, index
        self.old = previous.facts

    def run(self) -> ModuleFacts | None:
        old, edit, index = self.old, self.edit, self.index
        function = old.functions[index]
        line, column, end_line, _ = function.span
        new_end = end_line + edit.delta
        new_lines = self.new.lines()
        def_line = new_lines[line - 1]
        if def_line[: column - 1].strip(" ") or new_end <= line:
            return None
        region = "".join(new_lines[line - 1:new_end])
        if "\t" in region or "\x0c" in region or region.count("\r") != region.count("\r\n"):
            return None
        header_end = _header_end(new_lines, line - 1, new_end)
        if header_end is None or header_end >= edit.first or header_end >= new_end:
            return None  # the change touches the signature, or the body is on the `def` line
        wrapped = column > 1
        if wrapped:  # an indented `def` parses alone inside a block of its own
            ending = def_line[len(def_line.rstrip("\r\n")):] or "\n"
            fragment = "if 1:" + ending + region
        else:
            fragment = region
        if not self._guarded(fragment):
            return None
        module, node = _parse(fragment, wrapped)
        if (node is None or node.name.value != function.name or (node.asynchronous is not None) != function.is_async
                or type(node.body) is not cst.IndentedBlock):
            return None
        numbering = self._numbering(function)
        if numbering is None:
            return None
        start, stop, blocks_before, groups_before, old_blocks, old_groups = numbering
        extractor = _FragmentExtractor(old.path, fragment, module, line - 1 - wrapped)
        extractor._block_ids, extractor._group_ids = blocks_before, groups_before
        outer = _Scope(Function(qualname="<fragment>", name="<fragment>", class_qualname=None, span=NO_SPAN))
        outer.type_checking = function.in_type_checking
        extractor._scope = outer
        owner = Class(function.class_qualname, "", NO_SPAN) if function.class_qualname is not None else None
        extractor._function(node, function.qualname[: len(function.qualname) - len(function.name)], owner)
        extractor._fill_positions()
        for fact, test, msg in extractor._assert_texts:
            fact.test = test.text
            fact.msg = msg.text if msg is not None else None
        made = extractor.facts
        fresh = made.functions[0]
        if fresh.qualname != function.qualname or fresh.span[:2] != function.span[:2]:
            return None
        nested = {"classes": made.classes, "imports": made.imports, "star_imports": made.star_imports}
        kept = {}
        for name in nested:
            parts = _around(getattr(old, name), line, end_line)
            if parts is None:
                return None
            kept[name] = parts
        moves = _Moves(function.span, fresh.span, edit.delta, blocks_before + old_blocks, extractor._block_ids,
                       groups_before + old_groups, extractor._group_ids)
        for position, other in enumerate(old.functions):
            if not start <= position < stop:
                moves.function(other)
        for name, (before, _, after) in kept.items():
            for item in (*before, *after):
                moves.fact(item)
        merged = replace(
            function, span=fresh.span, calls=fresh.calls, asserts=fresh.asserts, bindings=fresh.bindings,
            blocks=fresh.blocks, exits=fresh.exits, attribute_bindings=fresh.attribute_bindings,
            item_bindings=fresh.item_bindings)
        suppressed = suppressions(self.new.source)
        moves.apply()  # nothing above changed the old facts; from here on, nothing can fail
        facts = ModuleFacts(
            path=old.path,
            functions=[*old.functions[:start], merged, *made.functions[1:], *old.functions[stop:]],
            aliases=dict(old.aliases),
            suppressions=suppressed,
        )
        for name, (before, _, after) in kept.items():
            setattr(facts, name, [*before, *nested[name], *after])
        return facts

    def _guarded(self, fragment: str) -> bool:
        """Whether the fragment passes what source.refusal would ask of the whole new text.

        A text that passes the cheap scan reaches LibCST directly, and so does the
        fragment. One that fails it is parsed by CPython first: then the rest of the
        file must be known to pass that (the last text was checked so), and the fragment
        must pass it. When the last text was, the fragment is checked without scanning
        the new text (a check the full path would skip only costs a needless fallback)."""
        if not self.previous.known_to_compile():
            if not self.new.suspect():
                self.new.checked = False
                return True
            return False
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        try:
            tree = _compile(fragment, "<review-lint>")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return False
        finally:
            sys.setrecursionlimit(limit)
        self.new.checked = True
        return syntax_depth(tree) <= MAX_DEPTH - _DEPTH_MARGIN

    def _numbering(self, function: Function):
        """(first index, end index of the function and its nested functions in the list,
        blocks numbered before it, groups numbered before it, its blocks, its groups);
        None when the old numbering is not the walk's."""
        functions = self.old.functions
        start, (line, column, end_line, _) = self.index, function.span
        stop = start + 1
        while stop < len(functions) and functions[stop].span[0] <= end_line:
            if functions[stop].span[0] <= line:
                return None
            stop += 1
        # The walk numbers blocks (and the groups of their arms) in the order it meets
        # them, which is the order of their first lines: those before the `def` came first.
        before = highest = groups = 0
        for position, other in enumerate(functions):
            if start <= position < stop:
                continue
            for block in other.blocks:
                if block.span[:2] < (line, column):
                    before += 1
                    highest = max(highest, block.id)
                    groups = max(groups, block.group)
        if highest != before:
            return None
        inside = [block for other in functions[start:stop] for block in other.blocks]
        if sorted(block.id for block in inside) != list(range(before + 1, before + 1 + len(inside))):
            return None
        own_groups = {block.group for block in inside}
        if own_groups and (min(own_groups) != groups + 1 or max(own_groups) != groups + len(own_groups)):
            return None
        return start, stop, before, groups, len(inside), len(own_groups)


def _header_end(lines: list[str], first: int, stop: int) -> int | None:
    """The line (1-based) where the logical line starting at lines[first] ends."""
    remaining = iter(lines[first:stop])

    def readline() -> str:
        return next(remaining, "")

    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.NEWLINE:
                return first + token.start[0]
            if token.type == tokenize.ENDMARKER:
                return None
    except (tokenize.TokenError, SyntaxError):
        return None
    return None


def _parse(fragment: str, wrapped: bool) -> tuple[cst.Module | None, cst.FunctionDef | None]:
    """The fragment's module and its one `def` (inside its `if 1:` when wrapped), else Nones."""
    try:
        module = cst.parse_module(fragment)  # with the speed patches, as a full extraction
    except Exception:  # noqa: BLE001 - a fragment that does not parse: the whole file decides
        return None, None
    body = module.body
    if len(body) != 1:
        return None, None
    node = body[0]
    if wrapped:
        if (type(node) is not cst.If or node.orelse is not None or type(node.body) is not cst.IndentedBlock
                or len(node.body.body) != 1):
            return None, None
        node = node.body.body[0]
    if type(node) is not cst.FunctionDef or node.decorators:
        return None, None
    return module, node


def _around(items: list, line: int, end_line: int) -> tuple[list, list, list] | None:
    """(before, inside, after) the function on lines line..end_line, of facts listed in
    the walk's order (classes, imports); None when they are not in that order."""
    parts: tuple[list, list, list] = ([], [], [])
    part = 0
    for item in items:
        first = item.span[0]
        if first == 0 or first == line:
            return None
        now = 0 if first < line else 1 if first <= end_line else 2
        if now < part:
            return None
        part = now
        parts[now].append(item)
    return parts


class _Moves:
    """What the facts outside the re-extracted function become: spans after it move by
    the lines added, spans enclosing it end where it now ends, blocks and groups numbered
    after its own by the numbers added. Collected first, applied at once (`apply`)."""

    def __init__(self, old_span, new_span, delta: int, blocks_end: int, new_blocks_end: int,
                 groups_end: int, new_groups_end: int) -> None:
        self.line, self.column, self.end_line, self.end_column = old_span
        self.new_end = tuple(new_span[2:])
        self.delta = delta
        self.blocks_end, self.block_shift = blocks_end, new_blocks_end - blocks_end
        self.groups_end, self.group_shift = groups_end, new_groups_end - groups_end
        self.changes: list[tuple[object, object, object]] = []
        self.seen: set[int] = set()

    def apply(self) -> None:
        for owner, key, value in self.changes:
            setattr(owner, key, value)

    def moved(self, span):
        """The span's new value, or None when it stays."""
        line, column, end_line, end_column = span
        if end_line < self.end_line or line == 0:
            return None
        if line > self.end_line:
            return (line + self.delta, column, end_line + self.delta, end_column) if self.delta else None
        if end_line > self.end_line:
            return (line, column, end_line + self.delta, end_column) if self.delta else None
        # Ends on the function's last line: it encloses the function, so it ends where the function does.
        if (line, column) < (self.line, self.column) and end_column == self.end_column:
            now = (line, column, *self.new_end)
            return now if now != span else None
        return None

    def renumbered(self, blocks: tuple[int, ...]):
        end, shift = self.blocks_end, self.block_shift
        if not shift or not blocks or max(blocks) <= end:
            return None
        return tuple(block + shift if block > end else block for block in blocks)

    def _span(self, owner, key, span) -> bool:
        """Note the new span; False when the fact lies wholly before the function's last line."""
        if span[0] and span[2] < self.end_line:
            return False
        now = self.moved(span)
        if now is not None:
            self.changes.append((owner, key, now))
        return True

    def _blocks(self, owner, key) -> None:
        now = self.renumbered(getattr(owner, key))
        if now is not None:
            self.changes.append((owner, key, now))

    def value(self, value: Value | None) -> None:
        if value is None or id(value) in self.seen:
            return
        self.seen.add(id(value))
        # An expression's parts lie inside it: one that ends before the function keeps them all.
        if not self._span(value, "span", value.span):
            return
        if value.call is not None:
            self.call(value.call)
        for _, entry in value.entries:
            self.value(entry)
        for element in value.elements:
            self.value(element)

    def call(self, call: Call) -> None:
        if id(call) in self.seen:
            return
        self.seen.add(id(call))
        if not self._span(call, "span", call.span):
            return
        self._blocks(call, "blocks")
        self.value(call.receiver)
        for argument in call.args:
            self.value(argument)
        for _, argument in call.kwargs:
            self.value(argument)

    def function(self, function: Function) -> None:
        if function.qualname != "<module>" and function.span[2] < self.line:
            return  # wholly before the function: nothing of it moves
        self._span(function, "span", function.span)
        for decorator in function.decorators:
            self.value(decorator)
        for param in function.params:
            self.value(param.default)
        for call in function.calls:
            self.call(call)
        for fact in function.asserts:
            if self._span(fact, "span", fact.span):
                now = self.renumbered(fact.blocks)
                if now is not None:
                    self.changes.append((fact, "blocks", now))
        for binding in (*function.bindings, *function.attribute_bindings, *function.item_bindings):
            if self._span(binding, "span", binding.span):
                self._blocks(binding, "blocks")
                self.value(binding.value)
        for block in function.blocks:
            if self._span(block, "span", block.span):
                if self.block_shift and block.id > self.blocks_end:
                    self.changes.append((block, "id", block.id + self.block_shift))
                if self.group_shift and block.group > self.groups_end:
                    self.changes.append((block, "group", block.group + self.group_shift))
                self.value(block.test)
                for item in block.items:
                    self.value(item)
        for fact in function.exits:
            if self._span(fact, "span", fact.span):
                self._blocks(fact, "blocks")
                self.value(fact.value)

    def fact(self, fact) -> None:
        """A class or an import outside the function."""
        if type(fact) is Class:
            if fact.span[2] < self.line:
                return
            self._span(fact, "span", fact.span)
            for value in (*fact.bases, *fact.decorators):
                self.value(value)
            for _, value in fact.keywords:
                self.value(value)
            for field in fact.fields:
                if self._span(field, "span", field.span):
                    self.value(field.value)
        else:
            self._span(fact, "span", fact.span)
