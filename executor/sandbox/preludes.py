"""Named import preludes: trusted source a job may ask to run before its program, in the
program's own namespace (standard library only; the host validates names against PRELUDES,
the zygote compiles each once).

"lcb" is LiveCodeBench's `import_string` (lcb_runner/evaluation/testing_util.py), which its
runner puts before every program; "typing" makes LeetCode-style annotations (`List[int]`,
`Optional[TreeNode]`) work without their imports.
"""

LCB = (
    "from string import *\n"
    "from re import *\n"
    "from datetime import *\n"
    "from collections import *\n"
    "from heapq import *\n"
    "from bisect import *\n"
    "from copy import *\n"
    "from math import *\n"
    "from random import *\n"
    "from statistics import *\n"
    "from itertools import *\n"
    "from functools import *\n"
    "from operator import *\n"
    "from io import *\n"
    "from sys import *\n"
    "from json import *\n"
    "from builtins import *\n"
    "from typing import *\n"
    "import string\n"
    "import re\n"
    "import datetime\n"
    "import collections\n"
    "import heapq\n"
    "import bisect\n"
    "import copy\n"
    "import math\n"
    "import random\n"
    "import statistics\n"
    "import itertools\n"
    "import functools\n"
    "import operator\n"
    "import io\n"
    "import sys\n"
    "import json\n"
    "sys.setrecursionlimit(50000)\n"
)

TYPING = "from typing import *\n"

PRELUDES = {"lcb": LCB, "typing": TYPING}
