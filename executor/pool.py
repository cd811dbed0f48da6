"""A Pool of slots: runs many jobs concurrently on this machine.

One worker thread per slot (the work happens in the zygotes; the threads only
move frames, so the GIL is not the bottleneck). A job's answer is judged while
the next job already runs in the sandbox: the thread sends the next one first
(the zygote never waits on the host while a job runs: sandbox/zygote.py). A
zygote that dies or stalls is replaced; the job in flight is retried once on
the fresh slot and reported as `infra_error` if that fails too.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import replace
from typing import NamedTuple, cast

from . import builds, checking
from .config import ExecutorConfig
from .errors import PoolClosed, SandboxUnavailable, SlotCrashed
from .fair import FairQueue, Flow
from .job import Job
from .judging.judge import EarlyStop, judge
from .judging.prepare import PreparedJob, prepare
from .languages import PYTHON, Toolchain, toolchains
from .languages import python as python_lang
from .result import JobResult
from .sandbox import artifact, statuses
from .slot import Slot

log = logging.getLogger(__name__)

_STOP = object()
# What the queue holds, but _STOP: the job, its future, its on_start, its flow (fair.py).
_Item = tuple[Job, "Future[JobResult]", "Callable[[], None] | None", Flow]
RETRIES = 1  # extra attempts after an infrastructure fault
SLACK_S = 5.0
PER_CHILD_S = 8.0  # a child's ready wait (5 s) and the scratch wipe (2 s), at worst


def _queued_live(item: object) -> bool:
    """Is a queued item still to run (not a job cancelled while it waited)?"""
    return not cast(_Item, item)[1].cancelled()


class _Cancelled(Exception):
    """The job in flight was cancelled (Pool.cancel)."""


class _Claim(NamedTuple):
    """A job's build (executor/builds.py): `key`, and `state`: "hit" (its kept outcome is
    `built`), "build" (this job builds it and must end the claim), "none" (no build step)."""

    key: str | None
    state: str
    built: builds.Built | None = None


_NO_BUILD = _Claim(None, "none")


class _Answered(NamedTuple):
    """A job the sandbox has answered, to be judged (Pool._settle)."""

    job: Job
    fut: Future[JobResult]
    prepared: PreparedJob
    answer: dict[str, object]
    stop: EarlyStop | None
    attempt: int


def self_test(slot: Slot) -> None:
    """Score the language's self-test jobs on a freshly started slot; SandboxUnavailable (and
    the slot closed) unless every verdict is the expected one."""
    for data, expected in python_lang.SELF_TEST:
        job = prepare(Job.from_dict(data))
        try:
            answer = slot.run(job.sandbox_request(), answer_timeout(job), None, job.tester_sources())
            if "infra" in answer:  # the sandbox could not run it: say why, not what judging that makes of it
                raise SlotCrashed(answer["infra"])
            got = tuple(t.verdict.value for t in judge(job, answer).tests)
        except SlotCrashed as exc:
            got = ("crashed: %s" % exc,)
        if got != expected:
            slot.close()
            raise SandboxUnavailable(
                f"slot {slot.index} failed its self-test ({job.job.id}): verdicts {got}, expected {expected}"
            )


def answer_timeout(job: PreparedJob) -> float:
    """Host-side backstop: every phase may use its whole wall limit, plus set-up and wipe time."""
    return job.job.limits.wall_s * job.phases() + job.forks() * PER_CHILD_S + SLACK_S


class Pool:
    """Runs jobs on `config.slots` sandboxed zygotes.

    Use as a context manager, or call `start()` / `close()`:

        with Pool(ExecutorConfig()) as pool:
            for result in pool.map(jobs):
                ...
    """

    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.config = config or ExecutorConfig()
        # Cancelled jobs take no turn: dropped from the queue when they reach its head (fair.py).
        self._queue: FairQueue[object] = FairQueue(live=_queued_live, on_drop=self._forget_dropped)
        self._threads: list[threading.Thread] = []
        self.slots: list[Slot] = []
        self._closed = False
        self._lock = threading.Lock()
        self.runtime: str = ""
        self.stats = {"jobs": 0, "infra_errors": 0, "slot_restarts": 0}
        self._stats_lock = threading.Lock()
        self._running: dict[Future[JobResult], Slot] = {}
        self._dropped: set[Future[JobResult]] = set()  # cancelled while queued, until the queue or a slot drops them
        self.toolchains: dict[str, Toolchain] = {}  # the languages besides Python this pool runs
        self.builds = builds.BuildCache(self.config.build_cache_mb << 20, self.config.build_dir)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this pool runs (Python first), once started."""
        return (PYTHON, *sorted(self.toolchains))

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> Pool:
        """Start every slot now (raises SandboxUnavailable if the sandbox cannot start)."""
        if self._threads:
            return self
        if self.config.insecure_no_sandbox:
            log.warning("!!! INSECURE: running untrusted programs WITHOUT the firejail sandbox !!!")
        slots = [Slot(self.config, i) for i in range(self.config.slots)]
        errors: list[BaseException] = []
        found = toolchains(self.config.languages)
        self.toolchains = dict(found)
        failed: dict[str, str] = {}

        def boot(slot: Slot) -> None:
            try:
                slot.start()
                self_test(slot)
                for tc in found.values():
                    try:
                        reason = self._self_test_language(slot, tc)
                    except (SlotCrashed, SandboxUnavailable) as exc:
                        reason = str(exc)
                    if reason is not None:
                        failed[tc.name] = reason
            except BaseException as exc:
                errors.append(exc)

        starters = [threading.Thread(target=boot, args=(s,)) for s in slots]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        if errors:
            for s in slots:
                s.close()
            raise errors[0] if isinstance(errors[0], SandboxUnavailable) else SandboxUnavailable(str(errors[0]))
        for name, reason in sorted(failed.items()):
            log.warning("language %s is not offered: its self-test failed: %s", name, reason)
            self.toolchains.pop(name, None)
        self.runtime = "python-" + slots[0].info.get("python", "unknown")
        if self.toolchains:  # results of other languages are theirs: a toolchain upgrade changes the cache keys
            versions = "\0".join(f"{n}={tc.version}" for n, tc in sorted(self.toolchains.items()))
            self.runtime += "+toolchains-" + hashlib.sha256(versions.encode()).hexdigest()[:12]
        self.slots = slots
        for slot in slots:
            t = threading.Thread(target=self._work, args=(slot,), name=f"acefarm-slot-{slot.index}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def close(self) -> None:
        """Finish queued work, then stop every zygote."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for _ in self._threads:
            self._queue.put_last(_STOP)
        for t in self._threads:
            t.join()

    def __enter__(self) -> Pool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submitting work ----------------------------------------------------------
    def submit(self, job: Job, on_start: Callable[[], None] | None = None, flow: Flow = None) -> Future[JobResult]:
        """Queue `job`; the future resolves to its JobResult (never raises for verdicts).

        `on_start`, if given, is called (in a pool thread) when the job leaves the queue.
        Slots take queued jobs one flow at a time in turn (`flow`: whose job it is; fair.py).
        """
        if self._closed:
            raise PoolClosed("pool is closed")
        if not self._threads:
            self.start()
        fut: Future[JobResult] = Future()
        self._queue.put((job, fut, on_start, flow), flow)
        return fut

    def cancel(self, fut: Future[JobResult]) -> bool:
        """Cancel a submitted job. A job already running is stopped in the sandbox.

        The running program is killed with its whole sandbox (the slot restarts,
        which costs tens of ms), and the future raises CancelledError.
        """
        # A queued (or parked) job no longer waits once cancelled: it joins _dropped before the
        # cancel, so that the slot that drops it (and forgets it there) always finds it.
        # Future.cancel runs the future's callbacks: never under the pool's lock.
        with self._stats_lock:
            if fut.cancelled():
                return True
            self._dropped.add(fut)
        if fut.cancel():
            return True
        with self._stats_lock:  # held while killing: the slot cannot move on to another job meanwhile
            self._dropped.discard(fut)
            slot = self._running.get(fut)
            if slot is None:
                return False
            slot.cancel_requested = True
            slot.kill()
        return True

    @property
    def busy(self) -> int:
        """Slots running a job now."""
        return len(self._running)

    @property
    def flows_waiting(self) -> int:
        """Flows with jobs queued and not cancelled (fair.py)."""
        return self._queue.flows()

    def _forget_dropped(self, item: object) -> None:
        """A cancelled job the queue dropped (fair.py): it no longer waits."""
        with self._stats_lock:
            self._dropped.discard(cast(_Item, item)[1])

    @property
    def waiting(self) -> int:
        """Jobs queued for a slot and not started, those parked behind a build in flight
        included, and those cancelled through `cancel` not."""
        return max(0, self._queue.qsize() + self.builds.parked - len(self._dropped))

    def run(self, job: Job) -> JobResult:
        """Run one job and wait for its result."""
        return self.submit(job).result()

    def map(self, jobs: Iterable[Job], window: int | None = None) -> Iterator[JobResult]:
        """Results in input order, keeping at most `window` jobs in flight."""
        window = window or max(4, self.config.slots * 8)
        pending: list[Future[JobResult]] = []
        for job in jobs:
            pending.append(self.submit(job))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()

    # -- the slot worker -----------------------------------------------------------
    def _work(self, slot: Slot) -> None:
        answered: _Answered | None = None  # the last job's answer, judged once the next job runs
        try:
            while True:
                if answered is None:
                    item = self._queue.get()
                else:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:  # nothing to run meanwhile: judge it now
                        self._settle(answered)
                        answered = None
                        continue
                if item is _STOP:
                    if answered is not None:
                        self._settle(answered)
                    return
                job, fut, on_start, _ = cast(_Item, item)
                claim = self._claim(job, item)
                if claim is None:
                    continue  # parked: the build of its program is in flight on another slot
                if not fut.set_running_or_notify_cancel():
                    with self._stats_lock:
                        self._dropped.discard(fut)
                    if claim.state == "build":
                        self._built(claim, None)
                    continue
                if on_start is not None:
                    on_start()
                before, answered = answered, None
                try:
                    outcome = self._run_on(slot, job, fut, before, claim)
                except _Cancelled:
                    fut.set_exception(CancelledError(f"job {job.id} was cancelled while running"))
                except BaseException as exc:
                    log.exception("job %s failed unexpectedly", job.id)
                    fut.set_result(JobResult.infra_error(job.id, len(job.tests), f"internal error: {exc}"))
                else:
                    if isinstance(outcome, _Answered):
                        answered = outcome
                    else:
                        fut.set_result(outcome)
        finally:
            slot.close()

    def _run_on(
        self, slot: Slot, job: Job, fut: Future[JobResult], before: _Answered | None, claim: _Claim = _NO_BUILD
    ) -> _Answered | JobResult:
        """Run `job` in `slot`'s sandbox: its answer, to be judged, or an infra_error result
        after the retries. `before`, the job answered last, is judged once this one has been
        sent (or, failing that, before this returns). `claim`: its build (`_claim`): when this
        job builds it, the build runs first, as a request of its own, and ends the claim."""
        try:
            if job.language != PYTHON and job.language not in self.toolchains:
                return JobResult.infra_error(job.id, len(job.tests), self._unavailable(job.language))
            prepared = prepare(job)  # planned once, here, in the process that runs it
            snippets = prepared.tester_sources()
            fresh = claim.state == "build"  # this job's build is its own (its CPU time is the job's)
            reason = ""
            for attempt in range(1, RETRIES + 2):
                with self._stats_lock:
                    self._running[fut] = slot
                    slot.cancel_requested = False
                try:
                    if not slot.alive:
                        self._restart(slot)
                    if claim.state == "build":
                        claim = self._build(slot, job, claim)
                    built = claim.built
                    if built is not None and built.files is None:  # a failed build: nothing runs
                        answer = builds.answer_for(built, len(prepared.plans), cached=not fresh)
                        return _Answered(job, fut, prepared, answer, None, attempt)
                    request = self._request(prepared, claim)
                    stop = EarlyStop(prepared)
                    slot.send(request, snippets)
                    if before is not None:  # judged while the sandbox runs this job
                        self._settle(before)
                        before = None
                    answer = slot.answer(answer_timeout(prepared), stop if stop else None)
                    if built is not None:
                        answer["build"] = dict(built.phase, cached=not fresh)
                        if fresh:
                            answer["cpu_ms"] = float(answer.get("cpu_ms", 0.0)) + float(built.phase.get("cpu_ms", 0.0))
                    if answer.get("restart"):
                        slot.close()  # the zygote asked to be replaced (scratch it could not clean, grown heap)
                    if "infra" in answer:
                        raise SlotCrashed(answer["infra"])
                    if job.checker is not None:  # its checker judges the runs, on this slot (checking.py)
                        checking.check(slot, self.builds, prepared, answer, lambda: self._revive(slot))
                    return _Answered(job, fut, prepared, answer, stop if stop else None, attempt)
                except (SlotCrashed, SandboxUnavailable) as exc:
                    if slot.cancel_requested:
                        slot.close()
                        raise _Cancelled() from None
                    reason = str(exc)
                    log.warning(
                        "slot %d: infrastructure fault on job %s (attempt %d): %s", slot.index, job.id, attempt, reason
                    )
                    slot.close()
                finally:
                    with self._stats_lock:
                        self._running.pop(fut, None)
            self._count("infra_errors")
            return JobResult.infra_error(job.id, len(job.tests), reason, attempts=RETRIES + 1)
        finally:
            if claim.state == "build":  # the build did not finish: the next job of it builds it
                self._built(claim, None)
            if before is not None:
                self._settle(before)

    # -- builds ---------------------------------------------------------------------
    def _claim(self, job: Job, waiter: object) -> _Claim | None:
        """The build claim of `job` (None: `waiter` was parked behind the build in flight)."""
        tc = self.toolchains.get(job.language) if job.language != PYTHON else None
        if tc is None or tc.language.compile is None:
            return _NO_BUILD
        key = tc.build_key(job.program)
        state, built = self.builds.claim(key, waiter)
        return None if state == "parked" else _Claim(key, state, built)

    def _build(self, slot: Slot, job: Job, claim: _Claim) -> _Claim:
        """Build `job`'s program on `slot` and end the `claim` with its outcome: the claim of a
        job that runs what it made. SlotCrashed when the sandbox could not build it (the claim
        stays open: the caller retries or ends it)."""
        built = self._build_on(slot, job)
        self._built(claim, built)
        return _Claim(claim.key, "hit", built)

    def _build_on(self, slot: Slot, job: Job) -> builds.Built:
        """The outcome of building `job`'s program on `slot`, a request of its own; SlotCrashed
        when the sandbox could not build it."""
        tc = self.toolchains[job.language]
        try:
            request = builds.build_request(tc, job.program, job.limits)
        except artifact.Invalid as exc:  # its sources cannot be files (a name no file may have)
            return builds.Built(None, {"s": statuses.COMPILE, "m": f"the program cannot be built: {exc}"})
        slot.send(request, None)
        limits = request["build"]["limits"]
        answer = slot.answer(float(limits["wall_s"]) + PER_CHILD_S + SLACK_S)
        if answer.get("restart"):
            slot.close()
        built = builds.outcome(answer)
        if built is None:
            raise SlotCrashed(str(answer.get("infra") or "the sandbox did not finish the build"))
        return built

    def _built(self, claim: _Claim, built: builds.Built | None) -> None:
        """End the build `claim` with `built` (None: it did not finish), and run the jobs
        parked behind it."""
        assert claim.key is not None
        for waiter in self.builds.finish(claim.key, built):
            if isinstance(waiter, threading.Event):
                waiter.set()
            else:
                self._queue.put(waiter, cast(_Item, waiter)[3])

    def _request(self, prepared: PreparedJob, claim: _Claim) -> dict[str, object]:
        """What the zygote runs for `prepared`: a Python job's request, or the command, files
        and build of any other language's."""
        job = prepared.job
        if job.language == PYTHON:
            return prepared.sandbox_request()
        runs = prepared.sandbox_request()  # its tests' specs, and room in its limits for their outputs
        return builds.request(job, self.toolchains[job.language], claim.built, runs["tests"], runs["limits"])

    def _unavailable(self, language: str) -> str:
        return f"language {language!r} is not available on this worker (available: {', '.join(self.languages)})"

    def _self_test_language(self, slot: Slot, tc: Toolchain) -> str | None:
        """Run `tc`'s self-test on `slot` (building it once for all slots); None when every
        verdict is the expected one, else why not."""
        program, cases, expected = tc.language.self_test
        data = {
            "id": f"self-test/{tc.name}",
            "language": tc.name,
            "program": program,
            "tests": [{"stdin": i, "expected_stdout": o} for i, o in cases],
        }
        job = prepare(Job.from_dict(data))
        claim = _NO_BUILD
        if tc.language.compile is not None:
            key = tc.build_key(program)
            built = self.builds.obtain(key, lambda: self._build_on(slot, job.job), 300)
            if built is None:
                return "its build never finished"
            if built.files is None:
                return "its build failed: %s" % str(built.phase.get("m", ""))[-300:]
            claim = _Claim(key, "hit", built)
        request = self._request(job, claim)
        slot.send(request, None)
        answer = slot.answer(answer_timeout(job))
        if "infra" in answer:
            return "the sandbox could not run it: %s" % answer["infra"]
        got = tuple(t.verdict.value for t in judge(job, answer).tests)
        return None if got == expected else f"verdicts {got}, expected {expected}: {judge(job, answer).tests}"

    def _settle(self, done: _Answered) -> None:
        """Judge an answered job and resolve its future."""
        try:
            result = judge(done.prepared, done.answer, done.stop)
            self._count("jobs")
            done.fut.set_result(result if done.attempt == 1 else replace(result, attempts=done.attempt))
        except BaseException as exc:
            log.exception("job %s failed unexpectedly", done.job.id)
            done.fut.set_result(JobResult.infra_error(done.job.id, len(done.job.tests), f"internal error: {exc}"))

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def _revive(self, slot: Slot) -> None:
        """Start `slot` again if it is not running (a zygote that asked to be replaced)."""
        if not slot.alive:
            self._restart(slot)

    def _restart(self, slot: Slot) -> None:
        self._count("slot_restarts")
        delay = 0.05
        for _ in range(5):
            try:
                slot.start()
                self_test(slot)
                return
            except SandboxUnavailable:
                time.sleep(delay)
                delay *= 4
        slot.start()
        self_test(slot)
