"""A chunk on the wire: the jobs of one Celery task, each suite of tests sent once, and how
many jobs the next one takes (`chunk_size`).

The jobs of a `Score` (a GRPO group) share one parsed `Tests` object. The dispatcher turns a
suite into its JSON form once (memoised by the object's identity), puts it once in each chunk
that uses it, and a suite larger than SUITE_INLINE_BYTES not in the chunk at all but once in
Redis (`acefarm:suite:<sha256>`, SUITE_TTL_S) for every chunk of the group to name. A worker
parses a suite once per sha and keeps it (WorkerSuites), so its jobs share their plans in the
executor too.

    {"batch": "<hex>", "reply": "acefarm:reply:<hex>", "sent": <unix time>,
     "suites": [{"sha": "...", "n": <tests>, "tests": [...]} | {"sha": "...", "n": <tests>, "ref": true}],
     "jobs": [{"id": "0", "hash": "...", "suite": 0, "program": "...", "language": "python",
               "limits": {...}, "mode": "all", "prelude": "", "checker"?: {"language", "program"}}]}
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import redis

from executor import InvalidJob, Job, Limits
from executor.job import JobRules, Tests, parse_tests
from executor.judging import registry
from executor.judging.cache import BoundedLRU

PREFIX = "acefarm:"
SUITE_INLINE_BYTES = 64 * 1024
SUITE_TTL_S = 3600
PIECE_BYTES = 256 * 1024
MEMO_BYTES = 256 << 20


def chunk_size(in_hand: int, waiting: int, in_flight: int, slots: int, smallest: int, largest: int) -> int:
    """How many of `in_hand` jobs (ready to send, `waiting` more behind them) the next chunk
    takes, on a cluster of `slots` slots with `in_flight` jobs sent and not answered.

    While fewer than `smallest` jobs per slot are in flight (a burst's start on an idle
    cluster): `smallest`, so every slot starts sooner (one thread sends: the last slot's first
    chunk waits for every other's to be encoded and sent). Then what there is, split evenly over
    the slots within [smallest, largest]: a burst goes in a few large chunks (fewer per-chunk
    costs: Celery's hand-over, checks, an acknowledgement) and ends in ever smaller ones, which
    the worker that is ahead takes (a worker fetches its next chunk only as its current one
    ends), so workers end together. What is in hand goes in equal parts of about that size.
    256 jobs on two idle slots: 8, 8, 48, 64, 64, 32, 16, 8, 8 (the sender holds at most
    `largest` at a time)."""
    slots = max(1, slots)
    if in_flight < slots * smallest:
        return min(in_hand, smallest)
    target = max(smallest, min(largest, -(-(in_hand + waiting) // slots)))
    return -(-in_hand // -(-in_hand // target))  # what is in hand in equal parts: no remnant


def suite_key(sha: str) -> str:
    return f"{PREFIX}suite:{sha}"


@dataclass
class _WireSuite:
    """A suite's wire form: `raw` when it travels inline, else only its sha (the text is
    stored in Redis and not kept here)."""

    sha: str
    raw: list[Any] | None
    stored_at: float = field(default=float("-inf"))


def _pieces(raw: list[Any]) -> Iterator[bytes]:
    """The suite's JSON text as UTF-8, in pieces of at most PIECE_BYTES characters: never the
    whole text at once (a suite may be megabytes; every copy of it counts)."""
    yield b"["
    for i, item in enumerate(raw):
        if i:
            yield b","
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        for k in range(0, len(text), PIECE_BYTES):
            yield text[k : k + PIECE_BYTES].encode("utf-8", "surrogatepass")
    yield b"]"


def _digest(raw: list[Any]) -> tuple[str, int]:
    """(sha256 of the suite's JSON text, its length in bytes), piece by piece."""
    h = hashlib.sha256()
    size = 0
    for piece in _pieces(raw):
        h.update(piece)
        size += len(piece)
    return h.hexdigest(), size


def store(r: redis.Redis[bytes], sha: str, raw: list[Any]) -> None:
    """Put a large suite in Redis a piece per command (Redis buffers a whole command: one
    SET of megabytes costs it the suite twice over), under a temporary key renamed when whole."""
    temp = f"{suite_key(sha)}:{uuid.uuid4().hex}"
    first = True
    for piece in _pieces(raw):
        if first:
            r.set(temp, piece, ex=SUITE_TTL_S)
            first = False
        else:
            r.append(temp, piece)  # type: ignore[no-untyped-call]
    r.rename(temp, suite_key(sha))  # type: ignore[no-untyped-call]


def fetch(r: redis.Redis[bytes], sha: str) -> bytes | None:
    """A stored suite's JSON text, read a piece per command (a reply is buffered whole in
    Redis too); None when it is gone."""
    key = suite_key(sha)
    size = int(r.strlen(key))  # type: ignore[no-untyped-call]
    if not size:
        return None
    out = bytearray()
    while len(out) < size:
        piece = r.getrange(key, len(out), min(size, len(out) + PIECE_BYTES) - 1)  # type: ignore[no-untyped-call]
        if not piece:
            return None  # expired meanwhile
        out += piece
    return bytes(out)


class ChunkEncoder:
    """The dispatcher's side: jobs -> a chunk payload, suites once. A suite's wire form is
    memoised on its `Tests` object (so it lives exactly as long as the request's jobs)."""

    def __init__(self, r: redis.Redis[bytes]) -> None:
        self.redis = r
        self._lock = threading.Lock()

    def _suite(self, tests: tuple[Any, ...], refresh: bool) -> _WireSuite:
        suite: _WireSuite | None = getattr(tests, "_wire", None)
        if suite is not None:
            stale = refresh or time.monotonic() - suite.stored_at > SUITE_TTL_S / 2
            if suite.raw is not None or not stale:
                return suite
        raw = [registry.to_raw(t) for t in tests]
        sha, size = _digest(raw)
        if size <= SUITE_INLINE_BYTES:
            suite = _WireSuite(sha, raw)
        else:
            suite = _WireSuite(sha, None, time.monotonic())
            store(self.redis, sha, raw)
        if isinstance(tests, Tests):
            with self._lock:
                tests._wire = suite  # type: ignore[attr-defined]  # a memo on the shared object
        return suite

    def encode(
        self, batch: str, reply: str, items: list[tuple[str, Job, str]], refresh: bool = False
    ) -> dict[str, Any]:
        """The payload of one chunk of (wire id, job, content hash). Suites too large to inline
        are stored in Redis first (again when `refresh` and past half their TTL)."""
        suites: list[dict[str, Any]] = []
        where: dict[int, int] = {}
        jobs = []
        for wire, job, content_hash in items:
            n = where.get(id(job.tests))
            if n is None:
                suite = self._suite(job.tests, refresh)
                n = where[id(job.tests)] = len(suites)
                if suite.raw is not None:
                    suites.append({"sha": suite.sha, "n": len(job.tests), "tests": suite.raw})
                else:
                    suites.append({"sha": suite.sha, "n": len(job.tests), "ref": True})
            entry: dict[str, Any] = {
                "id": wire,
                "hash": content_hash,
                "suite": n,
                "program": job.program,
                "language": job.language,
                "limits": job.limits.to_dict(),
                "mode": "first_failure" if job.first_failure else "all",
            }
            if job.prelude:
                entry["prelude"] = job.prelude
            if job.checker is not None:
                entry["checker"] = job.checker.to_raw()
            jobs.append(entry)
        return {"batch": batch, "reply": reply, "sent": time.time(), "suites": suites, "jobs": jobs}


class WorkerSuites:
    """The worker's side: suites parsed once per sha and kept (bounded by their text's size)."""

    def __init__(self, rules: JobRules, max_bytes: int = MEMO_BYTES) -> None:
        self.rules = rules
        self._parsed: BoundedLRU[str, Tests] = BoundedLRU(max_bytes)

    def missing(self, payload: dict[str, Any]) -> list[str]:
        """The shas of the suites stored in Redis that this worker has not parsed yet."""
        return [s["sha"] for s in payload["suites"] if s.get("ref") and s["sha"] not in self._parsed]

    def jobs(
        self, payload: dict[str, Any], wire: list[dict[str, Any]], fetched: dict[str, bytes | None]
    ) -> list[tuple[dict[str, Any], Job | str]]:
        """Each of the chunk's `wire` jobs with its Job, or with why it cannot be built (its
        suite expired from Redis, or it does not validate here)."""
        suites: dict[int, Tests | str] = {}
        limits: dict[str, Limits] = {}  # a chunk's jobs mostly share their limits: parsed once
        out: list[tuple[dict[str, Any], Job | str]] = []
        for d in wire:
            if d["suite"] not in suites:
                suites[d["suite"]] = self._tests(payload["suites"][d["suite"]], fetched)
            tests = suites[d["suite"]]
            if isinstance(tests, str):
                out.append((d, tests))
                continue
            try:
                key = json.dumps(d.get("limits"), sort_keys=True)
                if key not in limits:
                    limits[key] = Limits().merged(d.get("limits"))
                job = Job.from_parts(
                    d["id"],
                    d["program"],
                    tests,
                    d.get("language", "python"),
                    limits[key],
                    d.get("mode", "all"),
                    self.rules,
                    d.get("prelude", ""),
                    d.get("checker"),
                )
            except InvalidJob as exc:
                out.append((d, f"job does not validate on this worker: {exc.field}: {exc.message}"))
                continue
            out.append((d, job))
        return out

    def _tests(self, suite: dict[str, Any], fetched: dict[str, bytes | None]) -> Tests | str:
        sha = suite["sha"]
        hit = self._parsed.get(sha)
        if hit is not None:
            return hit[0]
        if suite.get("ref"):
            text = fetched.get(sha)
            if text is None:
                return f"the test suite {sha[:12]} expired from Redis before the chunk ran"
            raw = json.loads(text)
            size = len(text)
        else:
            raw = suite["tests"]
            size = SUITE_INLINE_BYTES
        try:
            tests = parse_tests(raw, self.rules)
        except InvalidJob as exc:
            return f"tests do not validate on this worker: {exc.field}: {exc.message}"
        self._parsed.put(sha, tests, size)
        return tests
