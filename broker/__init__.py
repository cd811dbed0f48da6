"""AceFarm's broker: where jobs are sent to run, and the `acefarm` CLI.

`LocalDispatcher` runs jobs on an in-process executor Pool (embedded mode), the gRPC
server and the Celery cluster elsewhere. `score_file` scores a JSONL or Parquet file of jobs,
or of any other records a line parser makes jobs of (the trainer's: AceCode-87K rows).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("acefarm")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

from .dispatcher import Dispatcher, LocalDispatcher
from .records import LineRejected
from .scoring import Summary, score_file

__all__ = ["Dispatcher", "LineRejected", "LocalDispatcher", "Summary", "score_file"]
