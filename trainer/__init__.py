"""AceFarm's trainer: thin clients of the farm that run the AceCoder pipeline.

synth -> filter -> sample -> score (`acefarm score`) -> pairs, each a library function here and
a CLI verb (trainer/cli.py). Rows follow the AceCode-87K schema (data.py).
"""

from .data import RowError, read_rows, validate_row
from .extract import extract_code
from .farm import EmbeddedFarm, Farm, RemoteFarm, open_farm
from .llm import Backend, BackendError, OpenAIBackend, VLLMBackend
from .pairs import PairRule, make_pairs
from .replay import ReplayServer
from .rewards import AsyncFarmReward, FarmReward
from .steps import filter_row, sample_rows, score_row
from .synth import ParseError, parse_answer, synth_rows
from .verl_reward import compute_score, compute_score_async, compute_score_batch

__all__ = [
    "AsyncFarmReward",
    "Backend",
    "BackendError",
    "EmbeddedFarm",
    "Farm",
    "FarmReward",
    "OpenAIBackend",
    "PairRule",
    "ParseError",
    "RemoteFarm",
    "ReplayServer",
    "RowError",
    "VLLMBackend",
    "compute_score",
    "compute_score_async",
    "compute_score_batch",
    "extract_code",
    "filter_row",
    "make_pairs",
    "open_farm",
    "parse_answer",
    "read_rows",
    "sample_rows",
    "score_row",
    "synth_rows",
    "validate_row",
]
