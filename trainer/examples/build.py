"""Builds the bundled example set (written for AceFarm; run `python trainer/examples/build.py`).

Writes, next to this file:
- acecode_sample.jsonl  30 AceCode-87K rows: question, ~8 assert tests, 4 inferences
                        (2 right, 2 wrong), pass rates left as the dataset had them (stale)
- seeds.jsonl           the same 30 problems as synth seeds: {id, question, program}
- recordings.json       answers for the replay server (trainer/replay.py): what an LLM said
                        for each synth prompt (some with a wrong test, one unparseable) and
                        for each sample prompt (right and wrong programs, fenced and plain)

Expected values are computed by running the reference solutions here (trusted code).
"""

from __future__ import annotations

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent

# name, signature, question, reference body, wrong bodies, test inputs
PROBLEMS = [
    (
        "add_two",
        "a, b",
        "Return the sum of two integers.",
        "return a + b",
        ["return a - b", "return a * b"],
        [(1, 2), (0, 0), (-3, 3), (10, 5), (7, -9), (100, 200), (-1, -1), (2, 2)],
    ),
    (
        "is_palindrome",
        "s",
        "Return True if s reads the same backwards, ignoring case.",
        "t = s.lower()\n    return t == t[::-1]",
        ["return s == s[::-1]", "return len(s) % 2 == 1"],
        [("Aba",), ("abc",), ("",), ("a",), ("Noon",), ("xyzzyx",), ("ab",), ("Racecar",)],
    ),
    (
        "count_vowels",
        "s",
        "Return the number of vowels (aeiou, any case) in s.",
        "return sum(c in 'aeiouAEIOU' for c in s)",
        ["return sum(c in 'aeiou' for c in s)", "return len(s)"],
        [("hello",), ("",), ("AEIOU",), ("xyz",), ("Programming",), ("queue",), ("Sky",), ("aAbB",)],
    ),
    (
        "fizzbuzz",
        "n",
        "Return 'Fizz' for multiples of 3, 'Buzz' for 5, 'FizzBuzz' for both, else str(n).",
        "return 'FizzBuzz' if n % 15 == 0 else 'Fizz' if n % 3 == 0 else 'Buzz' if n % 5 == 0 else str(n)",
        ["return 'Fizz' if n % 3 == 0 else 'Buzz' if n % 5 == 0 else str(n)", "return str(n)"],
        [(1,), (3,), (5,), (15,), (30,), (7,), (9,), (10,)],
    ),
    (
        "factorial",
        "n",
        "Return n! for n >= 0.",
        "r = 1\n    for i in range(2, n + 1):\n        r *= i\n    return r",
        ["return n * (n - 1)", "r = 1\n    for i in range(1, n):\n        r *= i\n    return r"],
        [(0,), (1,), (2,), (3,), (5,), (7,), (10,), (12,)],
    ),
    (
        "fibonacci",
        "n",
        "Return the n-th Fibonacci number (fib(0)=0, fib(1)=1).",
        "a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
        ["return n", "return n * (n - 1) // 2"],
        [(0,), (1,), (2,), (3,), (10,), (20,), (30,), (5,)],
    ),
    (
        "max_of_list",
        "xs",
        "Return the largest element of a non-empty list.",
        "return max(xs)",
        ["return xs[0]", "return sorted(xs)[-2] if len(xs) > 1 else xs[0]"],
        [([1, 2, 3],), ([3, 2, 1],), ([5],), ([-1, -5],), ([2, 9, 4],), ([0, 0],), ([7, 7, 8],), ([10, -10],)],
    ),
    (
        "reverse_words",
        "s",
        "Return the words of s in reverse order, joined by single spaces.",
        "return ' '.join(s.split()[::-1])",
        ["return s[::-1]", "return ' '.join(s.split())"],
        [("a b c",), ("hello world",), ("one",), ("",), ("  x  y ",), ("the sky is blue",), ("a",), ("ab cd",)],
    ),
    (
        "is_prime",
        "n",
        "Return True if n is a prime number.",
        "if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return True",
        ["return n % 2 == 1", "return n > 1"],
        [(1,), (2,), (3,), (4,), (17,), (21,), (97,), (100,)],
    ),
    (
        "gcd",
        "a, b",
        "Return the greatest common divisor of two non-negative integers.",
        "while b:\n        a, b = b, a % b\n    return a",
        ["return min(a, b)", "return a * b"],
        [(12, 18), (7, 5), (0, 9), (9, 0), (100, 75), (17, 17), (8, 12), (21, 14)],
    ),
    (
        "flatten",
        "xss",
        "Flatten a list of lists into one list.",
        "return [x for xs in xss for x in xs]",
        ["return xss[0] if xss else []", "return [xs[0] for xs in xss if xs]"],
        [
            ([[1, 2], [3]],),
            ([],),
            ([[]],),
            ([[1], [2], [3]],),
            ([[1, 2, 3]],),
            ([[0], []],),
            ([[5, 6], [7, 8]],),
            ([[9]],),
        ],
    ),
    (
        "char_frequency",
        "s",
        "Return a dict mapping each character of s to its count.",
        "d = {}\n    for c in s:\n        d[c] = d.get(c, 0) + 1\n    return d",
        ["return {c: 1 for c in s}", "return dict()"],
        [("aab",), ("",), ("abc",), ("zzz",), ("hello",), ("abab",), ("x",), ("mississippi",)],
    ),
    (
        "two_sum",
        "nums, target",
        "Return indices [i, j] (i < j) of two numbers adding up to target.",
        "seen = {}\n    for j, x in enumerate(nums):\n        if target - x in seen:\n            return [seen[target - x], j]\n        seen[x] = j\n    return []",
        ["return [0, 1]", "return [nums.index(target - nums[0]), 0]"],
        [
            ([2, 7, 11, 15], 9),
            ([3, 2, 4], 6),
            ([3, 3], 6),
            ([1, 5, 9], 14),
            ([0, 4, 3, 0], 0),
            ([1, 2], 3),
            ([5, 1, 5], 10),
            ([2, 8, 1], 3),
        ],
    ),
    (
        "binary_search",
        "xs, t",
        "Return the index of t in the sorted list xs, or -1.",
        "lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n        if xs[mid] == t:\n            return mid\n        if xs[mid] < t:\n            lo = mid + 1\n        else:\n            hi = mid - 1\n    return -1",
        ["return xs.index(t) if t in xs else 0", "return -1"],
        [
            ([1, 3, 5], 3),
            ([1, 3, 5], 4),
            ([], 1),
            ([2], 2),
            ([1, 2, 3, 4, 5], 5),
            ([1, 2, 3, 4, 5], 1),
            ([0, 10], 7),
            ([4, 8, 15], 15),
        ],
    ),
    (
        "remove_duplicates",
        "xs",
        "Return xs without duplicates, keeping first occurrences in order.",
        "seen, out = set(), []\n    for x in xs:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out",
        ["return sorted(set(xs))", "return list(set(xs))[::-1]"],
        [([1, 2, 1],), ([],), ([3, 3, 3],), ([3, 1, 2, 1],), ([5, 4, 5, 4],), ([1],), ([2, 1],), ([9, 8, 9, 7],)],
    ),
    (
        "sum_digits",
        "n",
        "Return the sum of the decimal digits of a non-negative integer.",
        "return sum(int(d) for d in str(n))",
        ["return n % 10", "return len(str(n))"],
        [(0,), (5,), (123,), (999,), (1001,), (42,), (10,), (77,)],
    ),
    (
        "capitalize_words",
        "s",
        "Capitalize the first letter of every space-separated word.",
        "return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))",
        ["return s.upper()", "return s.capitalize()"],
        [
            ("hello world",),
            ("a",),
            ("",),
            ("multiple words here",),
            ("ALREADY Caps",),
            ("x y",),
            ("python",),
            ("ab cd ef",),
        ],
    ),
    (
        "second_largest",
        "xs",
        "Return the second largest distinct value, or None if there is none.",
        "u = sorted(set(xs))\n    return u[-2] if len(u) > 1 else None",
        ["return sorted(xs)[-2]", "return max(xs)"],
        [([1, 2, 3],), ([3, 3],), ([5, 1],), ([2, 2, 1],), ([7],), ([4, 9, 9, 2],), ([-1, -2],), ([0, 0, 1],)],
    ),
    (
        "run_length",
        "s",
        "Run-length encode s: 'aaab' -> 'a3b1'.",
        "out, i = [], 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out.append(s[i] + str(j - i))\n        i = j\n    return ''.join(out)",
        ["return ''.join(c + '1' for c in s)", "return s"],
        [("aaab",), ("",), ("abc",), ("zzzz",), ("aabbaa",), ("x",), ("abbb",), ("mmnnn",)],
    ),
    (
        "matrix_transpose",
        "m",
        "Return the transpose of a rectangular matrix (list of rows).",
        "return [list(r) for r in zip(*m)]",
        ["return m", "return [r[::-1] for r in m]"],
        [
            ([[1, 2], [3, 4]],),
            ([[1, 2, 3]],),
            ([[1], [2]],),
            ([],),
            ([[5]],),
            ([[1, 2], [3, 4], [5, 6]],),
            ([[0, 0]],),
            ([[7], [8], [9]],),
        ],
    ),
    (
        "anagrams",
        "a, b",
        "Return True if a and b are anagrams of each other (case-sensitive).",
        "return sorted(a) == sorted(b)",
        ["return set(a) == set(b)", "return len(a) == len(b)"],
        [
            ("listen", "silent"),
            ("a", "a"),
            ("ab", "ba"),
            ("aab", "abb"),
            ("", ""),
            ("abc", "abd"),
            ("Ab", "ab"),
            ("rat", "tar"),
        ],
    ),
    (
        "balanced_parens",
        "s",
        "Return True if the brackets ()[]{} in s are balanced.",
        "pairs = {')': '(', ']': '[', '}': '{'}\n    st = []\n    for c in s:\n        if c in '([{':\n            st.append(c)\n        elif c in pairs:\n            if not st or st.pop() != pairs[c]:\n                return False\n    return not st",
        ["return s.count('(') == s.count(')')", "return len(s) % 2 == 0"],
        [("()",), ("([]{})",), ("(]",), ("",), ("((",), ("{[()]}",), ("())(",), ("a(b)c",)],
    ),
    (
        "celsius_to_f",
        "c",
        "Convert Celsius to Fahrenheit, rounded to 1 decimal.",
        "return round(c * 9 / 5 + 32, 1)",
        ["return round(c * 5 / 9 + 32, 1)", "return c + 32"],
        [(0,), (100,), (-40,), (37,), (21.5,), (-10,), (1,), (300,)],
    ),
    (
        "merge_sorted",
        "a, b",
        "Merge two sorted lists into one sorted list.",
        "out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n            out.append(a[i]); i += 1\n        else:\n            out.append(b[j]); j += 1\n    return out + a[i:] + b[j:]",
        ["return a + b", "return sorted(set(a + b))"],
        [
            ([1, 3], [2, 4]),
            ([], [1]),
            ([1], []),
            ([1, 1], [1]),
            ([0, 5], [1, 2, 3]),
            ([], []),
            ([2], [1]),
            ([1, 2], [3, 4]),
        ],
    ),
    (
        "longest_word",
        "s",
        "Return the longest word in s (the first one on ties).",
        "best = ''\n    for w in s.split():\n        if len(w) > len(best):\n            best = w\n    return best",
        [
            "return max(s.split(), key=len) if s.split() else ''[::-1] + s.split()[-1] if s.split() else ''",
            "return s.split()[0] if s.split() else ''",
        ],
        [
            ("a bb ccc",),
            ("hello world",),
            ("",),
            ("one three two",),
            ("x",),
            ("aa bb",),
            ("tie tie longer",),
            ("z yy",),
        ],
    ),
    (
        "power_of_two",
        "n",
        "Return True if n is a positive power of two.",
        "return n > 0 and n & (n - 1) == 0",
        ["return n % 2 == 0", "return n > 0"],
        [(1,), (2,), (3,), (16,), (0,), (-4,), (1024,), (6,)],
    ),
    (
        "count_words",
        "s",
        "Return the number of whitespace-separated words in s.",
        "return len(s.split())",
        ["return s.count(' ') + 1", "return len(s)"],
        [("a b c",), ("",), ("one",), ("  spaced   out  ",), ("x y",), ("a\tb\nc",), ("hello world foo",), (" ",)],
    ),
    (
        "rotate_list",
        "xs, k",
        "Rotate xs right by k steps.",
        "if not xs:\n        return []\n    k %= len(xs)\n    return xs[-k:] + xs[:-k] if k else list(xs)",
        ["return xs[k:] + xs[:k]", "return xs[::-1]"],
        [
            ([1, 2, 3], 1),
            ([1, 2, 3], 3),
            ([], 2),
            ([1], 5),
            ([1, 2, 3, 4], 2),
            ([5, 6], 1),
            ([1, 2, 3], 0),
            ([9, 8, 7], 4),
        ],
    ),
    (
        "digital_root",
        "n",
        "Repeatedly sum the digits of n until one digit remains.",
        "while n >= 10:\n        n = sum(int(d) for d in str(n))\n    return n",
        ["return n % 10", "return sum(int(d) for d in str(n))"],
        [(0,), (9,), (38,), (12345,), (99,), (10,), (777,), (5,)],
    ),
    (
        "title_case_count",
        "s",
        "Return how many words of s start with an uppercase letter.",
        "return sum(1 for w in s.split() if w[0].isupper())",
        ["return sum(1 for c in s if c.isupper())", "return 0"],
        [
            ("Hello World",),
            ("hello world",),
            ("",),
            ("A b C",),
            ("NASA rocks",),
            ("x Y z",),
            ("ONE",),
            ("mixed CaSe Words",),
        ],
    ),
]


def fn(name: str, sig: str, body: str) -> str:
    return f"def {name}({sig}):\n    {body}\n"


def main() -> None:
    rows, seeds, recordings = [], [], []
    for k, (name, sig, question, ref, wrongs, inputs) in enumerate(PROBLEMS):
        env: dict = {}
        exec(fn(name, sig, ref), env)
        tests = [f"assert {name}({', '.join(map(repr, args))}) == {env[name](*args)!r}" for args in inputs]
        qid = f"example/{k:02d}-{name}"
        full_q = f"Write a Python function `{name}({sig})`. {question}"
        right2 = f'"""{name}: reference solution, restated."""\n\n' + fn(name, sig, ref)
        infs = [fn(name, sig, ref), right2] + [fn(name, sig, w) for w in wrongs]
        completions = [
            f"```python\n{infs[0]}```",
            f"Here is a solution:\n```py\n{infs[1]}```\nIt runs in linear time.",
            f"```python\n{infs[2]}```",
            infs[3],
        ]
        rows.append(
            {
                "id": qid,
                "source": "acefarm-examples",
                "question": full_q,
                "test_cases": tests,
                "inferences": [
                    {"model_name": "example-model", "completion_id": i, "completion": c, "pass_rate": 1.0}
                    for i, c in enumerate(completions)
                ],
                "context_messages": [{"role": "user", "content": full_q}],
            }
        )
        seeds.append({"id": qid, "question": question, "program": fn(name, sig, ref)})
        # synth: the model's answer; every 7th has a wrong test (filter drops it), one is unparseable.
        synth_tests = list(tests)
        if k % 7 == 3:
            synth_tests.append(f"assert {name}({', '.join(map(repr, inputs[0]))}) == 'not the answer'")
        answer = json.dumps({"question": full_q, "tests": synth_tests}, indent=1)
        if k == 29:
            answer = "I cannot turn this into a question, sorry."
        elif k % 2:
            answer = f"Sure! Here is the rewritten problem:\n```json\n{answer}\n```\nLet me know if you need more."
        recordings.append({"match": question, "answers": [answer]})
        recordings.append({"match": full_q, "answers": completions})
    (HERE / "acecode_sample.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (HERE / "seeds.jsonl").write_text("".join(json.dumps(s) + "\n" for s in seeds))
    # sample prompts are the full questions; synth prompts contain the seed question: full
    # questions must be matched first (they also contain the seed text).
    recordings.sort(key=lambda r: -len(r["match"]))
    (HERE / "recordings.json").write_text(json.dumps(recordings, indent=1) + "\n")


if __name__ == "__main__":
    main()
