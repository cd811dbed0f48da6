"""AceFarm's broker: where jobs are sent to run, and the `acefarm` CLI.

Embedded mode today: `LocalDispatcher` runs jobs on an in-process executor
Pool. `score_file` scores a JSONL file of jobs or AceCode-87K rows.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("acefarm")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

from .dispatcher import Dispatcher, LocalDispatcher  # noqa: E402
from .extract import extract_code  # noqa: E402
from .records import LineRejected  # noqa: E402
from .scoring import Summary, score_file  # noqa: E402

__all__ = ["Dispatcher", "LineRejected", "LocalDispatcher", "Summary", "extract_code", "score_file"]
