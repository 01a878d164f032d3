"""Control paths inside one function, from the extractor's Block and Exit facts.

Blocks of one `group` with different `arm` never both run (if/else arms,
match cases, a try body and its except handlers). An unconditional `return`
(or a `raise` outside any try) that follows the first of two events on its
own path stops the second from running after it.
"""

from __future__ import annotations

from typing import Callable

from ..facts import Block, Call, Function, Span, peek_text


def block_map(function: Function) -> dict[int, Block]:
    return {block.id: block for block in function.blocks}


def exclusive(blocks: dict[int, Block], first: tuple[int, ...], second: tuple[int, ...]) -> bool:
    """True when no single execution enters both block chains."""
    arms = {}
    for block_id in first:
        block = blocks.get(block_id)
        if block is not None:
            arms[block.group] = block.arm
    for block_id in second:
        block = blocks.get(block_id)
        if block is not None and block.group in arms and arms[block.group] != block.arm:
            return True
    return False


def _is_prefix(prefix: tuple[int, ...], chain: tuple[int, ...]) -> bool:
    return chain[: len(prefix)] == prefix


def exits_between(function: Function, blocks: dict[int, Block], first_order: int, first_blocks: tuple[int, ...],
                  second_order: int) -> bool:
    """An exit that every path from the first event reaches before the second one."""
    for exit_ in function.exits:
        if not first_order < exit_.order < second_order or not _is_prefix(exit_.blocks, first_blocks):
            continue
        if exit_.kind == "return":
            return True
        if exit_.kind == "raise" and not any(blocks[b].kind == "try" for b in exit_.blocks if b in blocks):
            return True
    return False


def same_path(function: Function, blocks: dict[int, Block], first_order: int, first_blocks: tuple[int, ...],
              second_order: int, second_blocks: tuple[int, ...]) -> bool:
    """Both events can run, first then second, in one execution of the function."""
    if exclusive(blocks, first_blocks, second_blocks):
        return False
    return not exits_between(function, blocks, first_order, first_blocks, second_order)


def ends_in_exit(function: Function, block: Block) -> bool:
    """The block's own statements end the function (return / raise) or the loop turn."""
    for exit_ in function.exits:
        if exit_.blocks and exit_.blocks[-1] == block.id and exit_.kind in ("return", "raise", "continue", "break"):
            return True
    return False


def contains(outer: Span, inner: Span) -> bool:
    return outer[:2] <= inner[:2] and inner[2:] <= outer[2:] and outer != inner


def ancestors(function: Function, block: Block) -> tuple[int, ...] | None:
    """Ids of the blocks enclosing `block`, outermost first, read off any event inside it
    (None for a block with no call, exit, binding or assert)."""
    for events in (function.exits, function.calls, function.bindings, function.asserts):
        for event in events:
            if block.id in event.blocks:
                return event.blocks[: event.blocks.index(block.id)]
    return None


def handlers_of(blocks: dict[int, Block], try_block: Block) -> list[Block]:
    return [b for b in blocks.values() if b.group == try_block.group and b.kind == "except"]


def before(first: Span, second: Span) -> bool:
    return first[:2] < second[:2]


def _norm(text: str) -> str:
    return "".join(text.split())


def tests_presence(function: Function) -> bool:
    """Some branch is entered when a subject is missing or present (`if x is None`,
    `if not await find(...)`, `if x: return x`) or catches an exception."""
    return any(block.missing or block.present or block.kind == "except" for block in function.blocks)


def testable_calls(function: Function) -> Callable[[Call], bool]:
    """Which calls `missing_branch` / `missing_handler` could pair with a branch, known
    before resolving any: a call whose text, awaited text or assigned name a branch tests
    for presence, or one inside a `try` (its `except DoesNotExist` is the missing branch)."""
    subjects = {_norm(s) for block in function.blocks for s in (*block.missing, *block.present)}
    tries = {block.id for block in function.blocks if block.kind == "try"}

    def testable(call: Call) -> bool:
        if not tries.isdisjoint(call.blocks):
            return True
        if not subjects or (call.assigned_to or "") in subjects:
            return bool(subjects)
        text = _norm(peek_text(call))  # last: a text may have to be read from its file (texts.py)
        return text in subjects or f"await{text}" in subjects
    return testable


def missing_branch(function: Function, subjects: set[str], after: Span, blocks_of: tuple[int, ...],
                   span: Span, after_blocks: tuple[int, ...] = ()) -> Block | None:
    """The branch on which `subjects` (a variable, or a call's text) are known missing and
    which holds the event at `span` (with enclosing blocks `blocks_of`):
    `if x is None: <event>`, `if not x: <event>`, `else` of `if x:`, or the code after
    `if x: return ...`. Only tests that come after `after` (the read), or hold it
    (`if not <read>:`, the read's blocks `after_blocks` not including the branch), count."""
    wanted = {_norm(s) for s in subjects if s}
    if not wanted:
        return None
    for block in function.blocks:
        if not before(after, block.span) and not (contains(block.span, after) and block.id not in after_blocks):
            continue
        if block.id in blocks_of and wanted & {_norm(s) for s in block.missing}:
            return block
        if (
            block.id not in blocks_of
            and wanted & {_norm(s) for s in block.present}
            and block.span[2:] < span[:2]
            and ends_in_exit(function, block)
            and _reaches(ancestors(function, block) or (), blocks_of, after_blocks)
        ):
            return block
    return None


def _reaches(chain: tuple[int, ...], blocks_of: tuple[int, ...], after_blocks: tuple[int, ...]) -> bool:
    """The exiting test sits on the path from the read (or on the event's own path)."""
    return _is_prefix(chain, blocks_of) or _is_prefix(chain, after_blocks)


def missing_handler(function: Function, blocks: dict[int, Block], read_blocks: tuple[int, ...],
                    blocks_of: tuple[int, ...], names: tuple[str, ...]) -> Block | None:
    """`try: <read> except Model.DoesNotExist: <event>`: the handler holding the event."""
    for block_id in blocks_of:
        block = blocks.get(block_id)
        if block is None or block.kind != "except":
            continue
        if not any(name.rsplit(".", 1)[-1] in names for name in block.catches):
            continue
        for read_block in read_blocks:
            other = blocks.get(read_block)
            if other is not None and other.kind == "try" and other.group == block.group:
                return block
    return None


def forced_exit(function: Function, point: int, known: dict[str, str]) -> bool:
    """A return or raise before the event at `point` that every execution reaches when
    the parameters in `known` hold the literals they name ("none", "false", "true"):
    `if not flag: return` with `flag=False` passed never gets to the event."""
    blocks = block_map(function)
    for exit_ in function.exits:
        if exit_.kind not in ("return", "raise") or exit_.order >= point or not exit_.blocks:
            continue
        rebound = _rebound_before(function, exit_.order)
        decided = False
        for block_id in exit_.blocks:
            block = blocks.get(block_id)
            if block is None:
                break
            if block.kind == "with":
                continue
            if _entered(block, known, rebound) is not True:
                break
            decided = True
        else:
            if decided:
                return True
    return False


def kept_out(function: Function, blocks_of: tuple[int, ...], point: int, known: dict[str, str]) -> bool:
    """The event at `point`, inside `blocks_of`, sits in a block that the literals in
    `known` keep execution out of: `if datasource or query: <event>` with both None."""
    blocks = block_map(function)
    rebound = _rebound_before(function, point)
    return any(
        block_id in blocks and _entered(blocks[block_id], known, rebound) is False for block_id in blocks_of)


def _rebound_before(function: Function, order: int) -> set[str]:
    return {b.name for b in function.bindings if b.order < order}


def _entered(block: Block, known: dict[str, str], rebound: set[str]) -> bool | None:
    """Whether the literals in `known` take execution into `block` (None: not decided)."""
    def holds(condition: tuple[str, str]) -> bool | None:
        name, how = condition
        return None if name in rebound or name not in known else _enters(how, known[name])

    if block.condition is not None:
        return holds(block.condition)
    if block.joined is None:
        return None
    answers = [holds(c) for c in block.conditions]
    if block.joined in ("all", "some"):
        if False in answers:
            return False
        return True if block.joined == "all" and all(answers) else None
    return True if True in answers else (False if all(a is False for a in answers) else None)


def _enters(how: str, literal: str) -> bool:
    """Whether a block entered when its name is `how` is entered for that literal."""
    if how == "truthy":
        return literal == "true"
    if how == "falsy":
        return literal in ("none", "false")
    if how == "none":
        return literal == "none"
    return literal in ("true", "false")  # "not-none"
