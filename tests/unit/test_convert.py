"""The one protobuf form of jobs and results (broker/convert.py) and the one dict form."""

from broker.convert import job_from_pb, job_to_pb, result_from_pb, result_to_pb, score_response, verdict_name
from executor import Job, JobResult, JobRules, Limits, TestResult, Verdict


def _same(a: JobResult, b: JobResult) -> bool:
    return a == b and a.attempts == b.attempts


def test_results_round_trip_through_protobuf_and_dicts():
    result = JobResult(
        "q/1\ud800",
        Verdict.FAILED,
        (TestResult(Verdict.PASSED, None, 0.0), TestResult(Verdict.FAILED, "got 1\x00"), TestResult(Verdict.SKIPPED)),
        cpu_ms=3.5,
        peak_kb=9100,
        cached=True,
        message="why",
        attempts=2,
    )
    assert _same(result_from_pb(result_to_pb(result)), result)
    assert _same(JobResult.from_dict(result.to_dict()), result)
    assert result.tests[0].cpu_ms == 0.0 and result_from_pb(result_to_pb(result)).tests[2].cpu_ms is None


def test_a_job_dict_and_its_job_make_the_same_message():
    data = {
        "id": "a",
        "program": "def f(x):\n    return x\n",
        "tests": ["assert f(1) == 1", {"call": "f", "args": [[1, 2]], "expected": [1, 2]}],
        "limits": {"memory_mb": 512.0, "cpu_s": 1},
        "mode": "first_failure",
    }
    from_dict = job_to_pb(data)
    assert from_dict.limits.memory_mb == 512 and from_dict.limits.HasField("memory_mb")  # as written
    job = Job.from_dict(data)
    from_job = job_to_pb(job)
    # Chosen in the job, memory_mb travels though it equals the default: the farm's own default
    # (say 256) must not replace what the job asked for.
    assert from_job.limits.HasField("memory_mb") and from_job.limits.memory_mb == 512 and from_job.limits.cpu_s == 1
    assert not from_job.limits.HasField("wall_s")  # not chosen: the farm's default
    assert list(from_dict.tests) == list(from_job.tests)
    back = job_from_pb(from_dict, Limits(), JobRules())
    assert back == job


def test_a_score_response_holds_each_result_its_row_and_its_pass_rate():
    results = [
        JobResult(
            "g/0", Verdict.PASSED, (TestResult(Verdict.PASSED, None, 0.5), TestResult(Verdict.PASSED, None, 1.0))
        ),
        JobResult("g/1", Verdict.FAILED, (TestResult(Verdict.PASSED, None, 0.5), TestResult(Verdict.FAILED, "no"))),
    ]
    resp = score_response(iter(results))
    assert [_same(result_from_pb(r), want) for r, want in zip(resp.results, results)] == [True, True]
    assert [[verdict_name(v) for v in row.verdicts] for row in resp.matrix] == [
        ["passed", "passed"],
        ["passed", "failed"],
    ]
    assert list(resp.pass_rates) == [1.0, 0.5]
    assert (
        resp.results[1].passed == 1 and resp.results[1].total == 2 and not resp.results[1].tests[1].HasField("cpu_ms")
    )
    assert verdict_name(0) == "verdict_unspecified"


def test_the_limits_a_caller_chose_travel_and_no_others():
    from broker.client import _score_request
    from executor.limits import DEFAULTS

    def sent(limits):
        req = _score_request(["x = 1"], ["assert x == 1"], "g", limits, False, None, "python", None)
        return {f.name: v for f, v in req.limits.ListFields()}

    assert sent(Limits(cpu_s=2.0, wall_s=6.0)) == Limits().to_dict()  # an object made with values: all
    assert sent({"cpu_s": 2.0}) == {"cpu_s": 2.0}
    assert sent(DEFAULTS) == {} and sent(None) == {}
    flags = DEFAULTS.merged({"cpu_s": 2.0})  # `acefarm score --server ... --cpu-s 2`
    job = Job.from_dict({"id": "a", "program": "", "tests": ["assert 1"], "limits": {"wall_s": 6}}, flags)
    assert {f.name for f, _ in job_to_pb(job).limits.ListFields()} == {"cpu_s", "wall_s"}
    plain = Job.from_dict({"id": "a", "program": "", "tests": ["assert 1"]})
    assert not job_to_pb(plain).HasField("limits")


def test_group_rewards_leave_out_what_the_farm_could_not_score():
    from broker.client import GroupScore

    results = [
        JobResult("g/0", Verdict.PASSED, (TestResult(Verdict.PASSED, None),)),
        JobResult("g/1", Verdict.FAILED, (TestResult(Verdict.FAILED, "no"),)),
        JobResult.infra_error("g/2", 1, "cannot reach the broker"),
    ]
    group = GroupScore(results, [["passed"], ["failed"], ["infra_error"]], [1.0, 0.0, 0.0])
    assert group.rewards == [1.0, 0.0, None] and group.pass_rates == [1.0, 0.0, 0.0]


def test_a_reply_cuts_raw_outputs_to_fit_its_message_cap_and_keeps_every_verdict():
    # Each raw run's output within its job's output_kb, a group's together past the message
    # cap: the whole Score failed (RESOURCE_EXHAUSTED), every program's result lost.
    from broker.convert import ReplyRoom
    from executor import RunOutput

    def loud(i):
        out = RunOutput(stdout="A" * (1 << 20), stderr="e" * 1000, exit_code=0)
        return JobResult(f"g/{i}", Verdict.PASSED, (TestResult(Verdict.PASSED, None, 1.0, out),))

    quiet = JobResult("g/3", Verdict.FAILED, (TestResult(Verdict.FAILED, "wrong", 1.0),))
    cap = (2 << 20) + ReplyRoom.MARGIN
    resp = score_response([loud(0), loud(1), loud(2), quiet], ReplyRoom(cap, 4))
    assert resp.ByteSize() <= cap - ReplyRoom.MARGIN  # its framing counted too
    assert [r.id for r in resp.results] == ["g/0", "g/1", "g/2", "g/3"]
    assert [r.verdict for r in resp.results] == [result_to_pb(x).verdict for x in (loud(0), loud(1), loud(2), quiet)]
    outs = [r.tests[0].output for r in resp.results[:3]]
    assert not outs[0].truncated and len(outs[0].stdout) == 1 << 20  # what fits stays whole
    assert outs[2].truncated and len(outs[2].stdout) < 1 << 20  # what does not is cut, and says so
    # A single result past the cap is cut to fit as well (Execute's reply).
    alone = ReplyRoom((1 << 19) + ReplyRoom.MARGIN).fit(result_to_pb(loud(0)))
    assert alone.ByteSize() <= 1 << 19 and alone.tests[0].output.truncated


def test_a_reply_of_many_results_leaves_their_messages_out_before_it_passes_its_cap():
    from broker.convert import ReplyRoom

    def failing(i):
        tests = tuple(TestResult(Verdict.FAILED, "x" * 500, 1.0) for _ in range(20))
        return JobResult(f"g/{i}", Verdict.FAILED, tests)

    cap = (200 << 10) + ReplyRoom.MARGIN
    resp = score_response([failing(i) for i in range(100)], ReplyRoom(cap, 100, 20))
    assert resp.ByteSize() <= cap - ReplyRoom.MARGIN and len(resp.results) == 100
    assert all(len(r.tests) == 20 for r in resp.results)
    assert resp.results[0].tests[0].message and "left out" in resp.results[-1].message
