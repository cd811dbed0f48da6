"""How the trainer reaches the farm: an embedded sandbox pool, or a farm server (client SDK).

A `Farm` scores a group of programs against one test suite (`score`). Both farms here also
score many groups at once (`score_groups`, and `ascore_groups` for asyncio): every job of
every group is in flight together, so a batch of GRPO groups costs about one group's wall
time on a farm with enough slots, not one per group.

A `RemoteFarm` pickles as its target, token, TLS CA, limits and deadline, and connects
again lazily where it is unpickled (a spawned reward process, a Ray worker). An
`EmbeddedFarm` holds live sandbox processes and cannot be pickled: pickling one raises
TypeError saying so; give such a process a farm server (`acefarm serve`) instead.

A group a remote farm could not answer (the server unreachable, its deadline passed, load
shed after the client's retries) comes back from `score_groups` as `infra_error` results
carrying the reason, never as failed programs: no result is not a 0.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from broker.client import DEFAULT_RETRIES, AsyncClient, Client
from broker.errors import FarmUnavailable
from executor import ExecutorConfig, InvalidJob, Job, JobResult, JobRules, Limits, Pool
from executor.job import parse_tests

#: gRPC statuses that mean "the farm gave no answer", as opposed to "the request is wrong"
#: (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, ...), which are raised.
NO_ANSWER = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


def no_answer(exc: BaseException) -> bool:
    """Whether `exc` means the farm could not answer (an infrastructure fault, not a bad request)."""
    if isinstance(exc, FarmUnavailable):
        return True
    return isinstance(exc, grpc.RpcError) and exc.code() in NO_ANSWER


@dataclass(frozen=True)
class Group:
    """Programs scored against one test suite: a GRPO group, or one sample."""

    programs: Sequence[str]
    tests: Any
    group_id: str


class Farm(Protocol):
    def score(self, programs: list[str], tests: Any, group_id: str) -> list[JobResult]:
        """One result per program, all against the same tests."""
        ...

    def close(self) -> None: ...


def score_groups(farm: Farm, groups: Sequence[Group]) -> list[list[JobResult]]:
    """Every group's results, the groups scored at once where `farm` can (both farms here do);
    a farm with only `score` gets its groups one after another."""
    many = getattr(farm, "score_groups", None)
    if many is not None:
        return list(many(groups))
    return [farm.score(list(g.programs), g.tests, g.group_id) for g in groups]


async def ascore_groups(farm: Farm, groups: Sequence[Group]) -> list[list[JobResult]]:
    """`score_groups` for asyncio: awaits the farm's own async path, or runs `score_groups` in a thread."""
    many = getattr(farm, "ascore_groups", None)
    if many is not None:
        return list(await many(groups))
    return await asyncio.to_thread(score_groups, farm, groups)


def _suite_size(tests: Any) -> int:
    try:
        return len(parse_tests(tests, JobRules.unbounded()))
    except Exception:  # the request never left: its size is only for the infra_error results
        return 0


def _unanswered(group: Group, exc: BaseException) -> list[JobResult]:
    code = exc.code().name if isinstance(exc, grpc.RpcError) else type(exc).__name__
    details = exc.details() if isinstance(exc, grpc.RpcError) else str(exc)
    message = f"the farm gave no answer ({code}: {details})"
    n = _suite_size(group.tests)
    return [JobResult.infra_error(f"{group.group_id}/{i}", n, message) for i in range(len(group.programs))]


def read_tests(value: Any) -> Any:
    """A row's tests as the farm takes them: a list of tests, or a standard-format object, or
    JSON text of either (trl and verl datasets often keep them as strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # the farm says what is wrong with it
    return plain(value)


def plain(value: Any) -> Any:
    """`value` with the numpy values a DataFrame or a Parquet column leaves in a row (an array of
    inputs, an np.int64 expected value, anywhere inside) as the Python values they hold
    (`tolist()`, `item()`), and tuples as lists: what a job's JSON carries."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # arrays and numpy scalars
        return plain(value.tolist())
    return value  # the farm names what it cannot take


def has_tests(tests: Any) -> bool:
    """Does a row's tests value (read_tests) hold any test? None, "", an empty list or
    object, or the code-RL shape with no inputs hold none: a row of another kind (a math
    problem in a mixed dataset), which the farm does not score."""
    if tests is None or tests == "" or tests == [] or tests == {}:
        return False
    if not (isinstance(tests, dict) and "inputs" in tests):
        return True
    inputs = tests["inputs"]  # a list, or an array a DataFrame left there (no truth value)
    return not (inputs is None or (hasattr(inputs, "__len__") and len(inputs) == 0))


def suite_members(
    suites: Sequence[Any],
    where: Callable[[int], str],
    skip_empty: bool = False,
    invalid: dict[int, InvalidJob] | None = None,
) -> list[list[int]]:
    """The indices of the rows that share each suite, in first-seen order (a GRPO group's
    completions share their row's tests). Each suite is checked once, InvalidJob naming its
    first row (`where(i)`); with `skip_empty` the rows with no tests (has_tests) are left out;
    given `invalid`, the rows whose tests the farm cannot take are left out too, each with its
    InvalidJob there, instead of refusing the batch (one bad row of a training batch)."""
    by_suite: dict[str, list[int]] = {}
    bad: dict[str, InvalidJob] = {}
    for i, tests in enumerate(suites):
        if skip_empty and not has_tests(tests):
            continue
        # Not sort_keys: a program sees a call test's dict arguments in their own order.
        try:
            key = json.dumps(tests, default=str)
        except (TypeError, ValueError, RecursionError) as exc:  # keys no JSON takes, too deep
            key = f"<unreadable {i}>"
            bad[key] = InvalidJob(where(i), f"not JSON-like: {exc}")
        if key not in by_suite and key not in bad:
            try:
                check_suite(tests, where(i))
            except InvalidJob as exc:
                bad[key] = exc
        if key in bad:
            if invalid is None:
                raise bad[key]
            invalid[i] = bad[key]
            continue
        by_suite.setdefault(key, []).append(i)
    return list(by_suite.values())


def check_suite(tests: Any, where: str) -> None:
    """Validate one row's tests now, so that InvalidJob names the row (`where`: the column
    and index, `test_cases[3]`) instead of failing a whole batch somewhere inside it."""
    try:
        parse_tests(tests)
    except InvalidJob as exc:
        raise InvalidJob(f"{where}.{exc.field}", exc.message) from None


class EmbeddedFarm:
    """A sandbox pool in this process (one slot per core unless `config` says otherwise)."""

    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.pool = Pool(config or ExecutorConfig()).start()
        self.limits = self.pool.config.limits

    def _submit(self, groups: Sequence[Group]) -> list[list[Future[JobResult]]]:
        suites = [parse_tests(g.tests) for g in groups]  # every suite checked before anything runs
        return [
            [
                self.pool.submit(Job.from_parts(f"{g.group_id}/{i}", p, suite, limits=self.limits))
                for i, p in enumerate(g.programs)
            ]
            for g, suite in zip(groups, suites)
        ]

    def score(self, programs: list[str], tests: Any, group_id: str) -> list[JobResult]:
        suite = parse_tests(tests)  # once for the whole group
        jobs = [Job.from_parts(f"{group_id}/{i}", p, suite, limits=self.limits) for i, p in enumerate(programs)]
        return list(self.pool.map(jobs))

    def score_groups(self, groups: Sequence[Group]) -> list[list[JobResult]]:
        return [[f.result() for f in futures] for futures in self._submit(groups)]

    async def ascore_groups(self, groups: Sequence[Group]) -> list[list[JobResult]]:
        submitted = self._submit(groups)
        return [list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))) for futures in submitted]

    def close(self) -> None:
        self.pool.close()

    def __reduce__(self) -> Any:
        raise TypeError(
            "an EmbeddedFarm cannot be pickled: it holds this process's sandbox pool. For a reward "
            "function that runs in another process (trl's async GRPO, Ray), serve the farm "
            "(`acefarm serve`) and use RemoteFarm(HOST:PORT), which reconnects wherever it is unpickled"
        )


# Programs in one Score call: a server's default --max-batch-jobs, and half a gRPC message's 64
# MiB of program text. A larger group (best-of-N with a large N, long programs) goes in
# several calls, as an embedded farm scores it whole.
GROUP_CALL_MAX = 4096
GROUP_CALL_BYTES = 32 << 20


def _pieces(programs: list[str]) -> list[list[str]]:
    """`programs` in runs of at most GROUP_CALL_MAX programs and GROUP_CALL_BYTES of text."""
    pieces: list[list[str]] = [[]]
    size = 0
    for program in programs:
        n = len(program.encode("utf-8", "surrogatepass"))
        if pieces[-1] and (len(pieces[-1]) >= GROUP_CALL_MAX or size + n > GROUP_CALL_BYTES):
            pieces.append([])
            size = 0
        pieces[-1].append(program)
        size += n
    return pieces


def _part_id(group_id: str, part: int) -> str:
    return group_id if part == 0 else f"{group_id}#{part}"


class RemoteFarm:
    """A farm server (`acefarm serve`), through the client SDK.

    `timeout_s` is each Score call's deadline (None: none); `retries` how often the SDK retries a
    call the farm did not answer (with backoff) before the group counts as not run. Connections are made on first use,
    one blocking client per farm and one asyncio client per event loop; `max_concurrency`
    bounds the Score calls `score_groups` has in flight from its threads.
    """

    def __init__(
        self,
        target: str,
        token: str | None = None,
        tls: str | None = None,
        limits: Limits | None = None,
        timeout_s: float | None = None,
        max_concurrency: int = 64,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.target = target
        self.token = token
        self.tls = tls
        self.limits = limits
        self.timeout_s = timeout_s
        self.max_concurrency = max_concurrency
        self.retries = retries
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._async: dict[asyncio.AbstractEventLoop, AsyncClient] = {}

    @property
    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(
                    self.target, token=self.token, tls=self.tls, retries=self.retries, timeout_s=self.timeout_s
                )
            return self._client

    def _async_client(self) -> AsyncClient:
        """The asyncio client of the running loop (a grpc.aio channel belongs to the loop that made it)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for old in [lp for lp in self._async if lp.is_closed()]:
                del self._async[old]
            if loop not in self._async:
                self._async[loop] = AsyncClient(
                    self.target, token=self.token, tls=self.tls, retries=self.retries, timeout_s=self.timeout_s
                )
            return self._async[loop]

    def score(self, programs: list[str], tests: Any, group_id: str) -> list[JobResult]:
        results: list[JobResult] = []
        for part, piece in enumerate(_pieces(programs)):
            results += self.client.score(piece, tests, group_id=_part_id(group_id, part), limits=self.limits).results
        return results

    def _score_or_unanswered(self, group: Group) -> list[JobResult]:
        try:
            return self.score(list(group.programs), group.tests, group.group_id)
        except Exception as exc:
            if not no_answer(exc):
                raise
            return _unanswered(group, exc)

    def score_groups(self, groups: Sequence[Group]) -> list[list[JobResult]]:
        """Each group one Score call, all in flight at once (threads over the blocking client)."""
        if len(groups) <= 1:
            return [self._score_or_unanswered(g) for g in groups]
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="acefarm-score")
            threads = self._threads
        futures = [threads.submit(self._score_or_unanswered, g) for g in groups]
        return [f.result() for f in futures]

    async def ascore_groups(self, groups: Sequence[Group]) -> list[list[JobResult]]:
        """Each group one Score call, all in flight at once on the running event loop."""
        client = self._async_client()

        async def one(group: Group) -> list[JobResult]:
            try:
                results: list[JobResult] = []
                for part, piece in enumerate(_pieces(list(group.programs))):
                    part_id = _part_id(group.group_id, part)
                    results += (await client.score(piece, group.tests, group_id=part_id, limits=self.limits)).results
                return results
            except Exception as exc:
                if not no_answer(exc):
                    raise
                return _unanswered(group, exc)

        return list(await asyncio.gather(*(one(g) for g in groups)))

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            threads, self._threads = self._threads, None
            self._async.clear()  # a grpc.aio channel closes with its loop
        if threads is not None:
            threads.shutdown(wait=False)
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's asyncio client (and the blocking one)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            aclient = self._async.pop(loop, None)
        if aclient is not None:
            await aclient.close()
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "token": self.token,
            "tls": self.tls,
            "limits": self.limits,
            "timeout_s": self.timeout_s,
            "max_concurrency": self.max_concurrency,
            "retries": self.retries,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # connects again lazily, on first use


def open_farm(
    server: str | None = None,
    token: str | None = None,
    tls: str | None = None,
    config: ExecutorConfig | None = None,
    timeout_s: float | None = None,
) -> Farm:
    """The farm at `server`, or an embedded pool when there is none."""
    if server:
        return RemoteFarm(server, token, tls, config.limits if config else None, timeout_s=timeout_s)
    return EmbeddedFarm(config)


_shared: dict[tuple[Any, ...], Farm] = {}
_shared_lock = threading.Lock()


def shared_farm(
    server: str | None = None,
    token: str | None = None,
    tls: str | None = None,
    timeout_s: float | None = None,
    retries: int = DEFAULT_RETRIES,
) -> Farm:
    """One farm per process for each (server, token, TLS CA, deadline, retries): the reward
    hooks' farm (an embedded pool when `server` is None)."""
    key = (server, token, tls, timeout_s, retries) if server else (None,)
    with _shared_lock:
        farm = _shared.get(key)
        if farm is None:
            if server:
                farm = RemoteFarm(server, token, tls, timeout_s=timeout_s, retries=retries)
            else:
                farm = EmbeddedFarm()
            _shared[key] = farm
        return farm
