"""AceFarm's broker: where jobs are sent to run, and the `acefarm` CLI.

Embedded mode today: `LocalDispatcher` runs jobs on an in-process executor
Pool. `score_file` scores a JSONL file of jobs or AceCode-87K rows.
"""

from .dispatcher import Dispatcher, LocalDispatcher
from .extract import extract_code
from .records import LineRejected
from .scoring import Summary, score_file

__all__ = ["Dispatcher", "LineRejected", "LocalDispatcher", "Summary", "extract_code", "score_file"]
