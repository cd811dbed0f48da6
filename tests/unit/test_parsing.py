"""The host parses test text from many threads at once (pool threads prepare jobs): CPython
3.11's AST conversion keeps its recursion depth per interpreter, so unserialized parses race
("SystemError: AST constructor recursion depth mismatch")."""

import gc
import threading

from executor.judging.parsing import parse

SOURCE = (
    "def check(c):\n"
    + "".join(f"    assert c({i}) == [{i}, ({i}, {{'a': [{i}]}})]\n" for i in range(300))
    + "check(f)\n"
)


class _Finalized:
    """Garbage with a finalizer: collecting it runs Python code, where threads switch."""

    def __del__(self) -> None:
        sum(range(50))


def test_parsing_from_many_threads_at_once():
    errors: list[str] = []

    def work() -> None:
        for _ in range(60):
            try:
                parse(SOURCE)
            except SystemError as exc:
                errors.append(str(exc))
                return
            for _ in range(50):
                g = _Finalized()
                g.cycle = g

    old = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.set_threshold(*old)
    assert errors == []
