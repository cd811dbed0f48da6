"""Kept builds (executor/builds.py): one build per program, parked waiters, bounds, the disk."""

import os

from executor.builds import BuildCache, Built

OK = {"s": "ok", "cpu_ms": 300.0, "wall_ms": 310.0}


def test_the_first_claim_builds_the_rest_wait_then_hit():
    cache = BuildCache(directory=None)
    assert cache.claim("k", "job1") == ("build", None)
    assert cache.claim("k", "job2") == ("parked", None)
    assert cache.claim("k", "job3") == ("parked", None)
    built = Built(b"files", OK)
    assert cache.finish("k", built) == ["job2", "job3"]
    assert cache.claim("k", "job4") == ("hit", built)
    assert cache.stats.to_dict() | {"kept_bytes": 0} == {
        "builds": 1,
        "hits": 1,
        "waits": 2,
        "evictions": 0,
        "kept": 1,
        "kept_bytes": 0,
    }


def test_a_build_that_did_not_finish_keeps_nothing_and_hands_back_its_waiters():
    cache = BuildCache(directory=None)
    cache.claim("k", "a")
    cache.claim("k", "b")
    assert cache.finish("k", None) == ["b"]
    assert cache.claim("k", "b") == ("build", None)  # the next job of it builds it


def test_a_failed_build_is_kept_but_not_one_a_wall_clock_limit_stopped():
    cache = BuildCache(directory=None)
    failed = Built(None, {"s": "compile", "m": "error: expected ';'"})
    cache.claim("bad", None)
    cache.finish("bad", failed)
    assert cache.claim("bad", None) == ("hit", failed)
    cache.claim("slow", None)
    cache.claim("slow", "parked job")
    stopped = Built(None, {"s": "compile", "m": "stopped: wall-clock", "stopped": True})
    assert cache.finish("slow", stopped) == ["parked job"]
    # It stands a minute for its program (the parked jobs take it, not a 30 s build each)...
    assert cache.claim("slow", None) == ("hit", stopped)
    # ...and is never kept: past that, or in another process, the program builds again.
    cache._recent["slow"] = (stopped, 0.0)
    assert cache.claim("slow", None) == ("build", None)


def test_kept_builds_are_bounded_by_bytes_least_recently_used_out():
    cache = BuildCache(max_bytes=3000, directory=None)
    for key in ("a", "b", "c"):
        cache.claim(key, None)
        cache.finish(key, Built(b"x" * 1000, OK))
    assert cache.stats.kept == 2 and cache.stats.evictions == 1 and cache.stats.kept_bytes <= 3000
    assert cache.claim("a", None) == ("build", None)


def test_builds_outlive_the_process_in_their_directory_which_stays_bounded(tmp_path):
    first = BuildCache(max_bytes=5000, directory=str(tmp_path))
    first.claim("k1", None)
    first.finish("k1", Built(b"binary", OK))
    assert oct(os.stat(tmp_path).st_mode & 0o777) == "0o700"
    again = BuildCache(max_bytes=5000, directory=str(tmp_path))
    state, built = again.claim("k1", None)
    assert state == "hit" and built is not None and built.files == b"binary" and built.phase["cpu_ms"] == 300.0
    for i in range(10):
        again.claim(f"n{i}", None)
        again.finish(f"n{i}", Built(b"y" * 1000, OK))
    assert sum(e.stat().st_size for e in os.scandir(tmp_path)) <= 5000


def test_an_unreadable_kept_file_is_a_miss(tmp_path):
    (tmp_path / "abc").write_bytes(b"\0\0\0\x10not json")
    assert BuildCache(directory=str(tmp_path)).claim("abc", None) == ("build", None)


def test_obtain_builds_once_and_a_build_that_raises_ends_its_claim():
    cache = BuildCache(directory=None)
    calls = []

    def build():
        calls.append(1)
        return Built(b"files", OK)

    assert cache.obtain("k", build, 1.0).files == b"files"
    assert cache.obtain("k", build, 1.0).files == b"files" and len(calls) == 1

    def crash():
        raise RuntimeError("the slot died")

    try:
        cache.obtain("j", crash, 1.0)
    except RuntimeError:
        pass
    assert cache.claim("j", None) == ("build", None)  # not left in flight


def test_a_result_after_a_build_a_wall_clock_limit_stopped_is_not_repeatable():
    """Its compile_error may be a loaded machine's doing: the result caches must not keep it,
    while a compile_error of a build that failed on its own is kept. The mark crosses the dict
    (JSONL, Redis) and protobuf forms of a result."""
    from broker.convert import result_from_pb, result_to_pb
    from executor import Job, JobResult
    from executor.builds import answer_for
    from executor.judging.judge import judge
    from executor.judging.prepare import prepare

    job = Job.from_dict(
        {"id": "c", "language": "cpp", "program": "int main() {}", "tests": [{"stdin": "", "expected_stdout": ""}]}
    )
    failed = Built(None, {"s": "compile", "m": "error: expected ';'", "cpu_ms": 80.0, "wall_ms": 90.0})
    stopped = Built(
        None, {"s": "compile", "m": "stopped: wall-clock", "cpu_ms": 900.0, "wall_ms": 30000.0, "stopped": True}
    )
    kept = judge(prepare(job), answer_for(failed, 1, cached=False))
    lost = judge(prepare(job), answer_for(stopped, 1, cached=False))
    assert kept.verdict.value == lost.verdict.value == "compile_error"
    assert kept.repeatable and not kept.build.stopped
    assert not lost.repeatable and lost.build.stopped
    for result in (kept, lost):
        assert JobResult.from_dict(result.to_dict()).build == result.build
        assert result_from_pb(result_to_pb(result)).build == result.build
    assert "stopped" not in kept.to_dict()["build"]
