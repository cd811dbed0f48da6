from broker.extract import called_names, extract_code


def test_plain_code_is_taken_as_is():
    assert extract_code("def f():\n    return 1\n") == "def f():\n    return 1\n"


def test_fenced_python_block_wins_over_prose():
    text = "Sure!\n```python\ndef f():\n    return 1\n```\nHope it helps."
    assert extract_code(text) == "def f():\n    return 1\n"


def test_picks_the_block_defining_the_called_function():
    text = ("```python\ndef helper():\n    return 0\n\n\n\n\n\n```\n"
            "```py\ndef solve(x):\n    return x\n```\n")
    assert extract_code(text, ["assert solve(1) == 1"]).startswith("def solve")


def test_bare_fence_and_longest_fallback():
    text = "```\nx = 1\n```\n```python\ny = 2\nz = 3\n```"
    assert extract_code(text) == "y = 2\nz = 3\n"


def test_unterminated_fence():
    assert extract_code("```python\ndef f():\n    return 1\n") == "def f():\n    return 1\n"


def test_non_python_fence_only():
    assert extract_code("```bash\nls\n```") == "ls\n"


def test_called_names_handles_methods_and_garbage():
    assert called_names(["assert Solution().solve(1) == 2", "assert (", "f(1)"]) == {"Solution", "solve", "f"}
