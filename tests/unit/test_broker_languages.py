"""What a farm offers and where a language's jobs go (broker/languages.py), and the refusal of
a language the farm lacks (errors.py's table)."""

import grpc

from broker import languages
from broker.errors import LanguageUnavailable, http_status_for, status_for
from broker.registry import QUEUE, WorkerInfo


def test_python_keeps_the_default_queue_and_each_other_language_has_its_own():
    assert languages.queue_for("python") == QUEUE == "acefarm"
    assert languages.queue_for("cpp") == "acefarm.lang.cpp"
    assert languages.queues(["cpp", "python", "c"]) == ["acefarm", "acefarm.lang.c", "acefarm.lang.cpp"]
    assert languages.queues([]) == ["acefarm"]  # every worker takes Python's chunks
    assert set(languages.QUEUES) == {"acefarm", *(f"acefarm.lang.{n}" for n in languages.COMMANDS)}


def test_offers_are_in_the_executors_order_and_merge_across_workers():
    assert languages.ordered(["rust", "cpp", "python", "c"]) == ["python", "c", "cpp", "rust"]
    merged = languages.merged(
        [
            {"python": "Python 3.11.2", "cpp": "C++17 (g++ 12)"},
            {"python": "Python 3.11.2", "c": "C17 (gcc 12)", "cpp": "C++17 (g++ 13)"},
        ]
    )
    assert merged == {"python": "Python 3.11.2", "c": "C17 (gcc 12)", "cpp": "C++17 (g++ 12); C++17 (g++ 13)"}
    assert list(merged) == ["python", "c", "cpp"]
    assert languages.merged([]) == {"python": ""}  # no worker yet: Python's jobs wait in the queue


def test_a_worker_that_lists_no_languages_runs_python_only():
    old = WorkerInfo.from_json("w", '{"slots": 2, "busy": 0, "runtime": "python-3.11.2"}')
    assert old.offer == {"python": ""}
    new = WorkerInfo("w", 2, 0, "python-3.11.2", languages={"python": "Python 3.11.2", "c": "C17"})
    assert WorkerInfo.from_json("w", new.to_json()).offer == {"python": "Python 3.11.2", "c": "C17"}


def test_split_keeps_each_languages_jobs_in_order():
    items = [("a", "python"), ("b", "cpp"), ("c", "python"), ("d", "cpp"), ("e", "go")]
    parts = languages.split(items, lambda item: item[1])
    assert parts == [[("a", "python"), ("c", "python")], [("b", "cpp"), ("d", "cpp")], [("e", "go")]]


def test_python_title():
    assert languages.python_title("python-3.11.2") == "Python 3.11.2"
    assert languages.python_title("python-unknown") == ""


def test_a_language_the_farm_lacks_is_a_failed_precondition_naming_what_it_has():
    exc = LanguageUnavailable("rust", ["python", "c"], "q1/s3")
    assert str(exc) == "job 'q1/s3': language 'rust' is not available on this farm (available: python, c)"
    assert status_for(exc) is grpc.StatusCode.FAILED_PRECONDITION and http_status_for(exc) == 400
    assert exc.available == ("python", "c") and exc.language == "rust"
