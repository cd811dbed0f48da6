"""Python's packages beyond the standard library (languages/python.py PACKAGES), in the sandbox."""

import pytest

from executor import ExecutorConfig, Job, Pool, Verdict
from executor.languages import python

pytestmark = pytest.mark.skipif(
    not python.installed_packages(("numpy", "sortedcontainers")), reason="make setup installs python3-numpy"
)

PROGRAM = """import numpy as np
from sortedcontainers import SortedList
n = int(input())
a = np.arange(n, dtype=np.int64)
print(int(a.sum()), list(SortedList([3, 1, 2])), float(np.linalg.inv(np.eye(2) * 4)[0][0]))
"""


def test_numpy_and_sortedcontainers_import_and_compute(run):
    result = run(PROGRAM, [{"stdin": "10\n", "expected_stdout": "45 [1, 2, 3] 0.25\n"}])
    assert result.verdict.value == "passed", result.to_dict()


def test_numpy_imported_by_the_zygote_costs_a_program_nothing_to_import():
    # An operator's choice (forks cost more): the program's child finds it in sys.modules.
    with Pool(ExecutorConfig(slots=1, languages=(), preimport_packages=("numpy",))) as pool:
        job = Job.from_dict(
            {"id": "n", "program": "import numpy\nprint(1)\n", "tests": [{"stdin": "", "expected_stdout": "1"}] * 3}
        )
        result = pool.run(job)
    assert result.verdict.value == "passed" and max(t.cpu_ms for t in result.tests) < 30, result.to_dict()


def test_the_rest_of_dist_packages_is_not_importable(run):
    result = run("import apt\n", [{"raw": {}}])
    assert "No module named 'apt'" in result.tests[0].output.stderr


def test_numpy_starts_no_threads_a_program_may_not_start(run):
    # BLAS with a thread per CPU would fail here (processes: 0): one thread each.
    program = (
        "import numpy as np\nm = np.random.default_rng(0).random((300, 300))\nprint(round(float((m @ m).trace())))\n"
    )
    result = run(program, [{"raw": {}}])
    assert result.verdict.value == "passed", result.to_dict()


def test_an_operator_can_turn_the_packages_off():
    with Pool(ExecutorConfig(slots=1, python_packages=(), languages=())) as pool:
        result = pool.run(Job.from_dict({"id": "x", "program": "import numpy\n", "tests": [{"raw": {}}]}))
    assert "No module named 'numpy'" in result.tests[0].output.stderr


def test_a_numpy_value_is_judged_as_a_value_not_by_its_own_equality(run):
    # numpy arrays compare elementwise: an assert on one must not pass by a truthy array.
    program = "import numpy as np\ndef f():\n    return np.array([1, 2, 3])\n"
    result = run(program, ["assert f() == [1, 2, 4]", "assert (f() == [1, 2, 4]).any()"])
    assert result.tests[0].verdict.value != "passed", result.to_dict()


def test_numpy_scalars_are_judged_as_the_numbers_they_are(run):
    program = (
        "import numpy as np\ndef s(a):\n    return np.sum(np.array(a))\n"
        "def b():\n    return np.bool_(True)\ndef mixed():\n    return [np.int64(1), np.float32(2.5)]\n"
    )
    tests = [
        "assert s([1, 2]) == 3",
        "assert b() == True",
        "assert mixed() == [1, 2.5]",
        "assert s([1, 2]) < 4",
        "assert s([1, 2]) == 4",  # a wrong value still fails
        "assert type(s([1])) is int",  # its type is numpy's, as in the program's process
    ]
    result = run(program, tests)
    got = [t.verdict.value for t in result.tests]
    assert got == ["passed"] * 4 + ["failed", "failed"], result.to_dict()


def test_a_numpy_array_is_not_a_list(run):
    # `array == list` is an array in the program's process, whose truth raises: never a pass.
    result = run("import numpy as np\ndef f():\n    return np.array([1, 2])\n", ["assert f() == [1, 2]"])
    assert result.tests[0].verdict.value == "failed", result.to_dict()


MATRIX = (
    "import numpy as np\ndef mat():\n    return np.array([[1, 2], [3, 4]])\n"
    "def scale(a, k):\n    return np.array(a) * k\ndef normalize(v):\n    v = np.array(v, dtype=float)\n"
    "    return v / np.linalg.norm(v)\ndef empty():\n    return np.zeros((0, 3))\n"
)


def test_a_programs_array_reaches_the_test_as_an_array_of_its_own(run):
    # Where the test uses numpy itself (the test process), a program's array of numbers
    # crosses as a copy: an array there, compared and reduced by the test's own numpy.
    tests = [
        "assert (scale([1, 2, 3], 2) == np.array([2, 4, 6])).all()",
        "assert np.all(scale([1, 2, 3], 2) == np.array([2, 4, 6]))",
        "assert all(scale([1, 2, 3], 2) == np.array([2, 4, 6]))",
        "result = mat()\nassert (result == np.array([[1, 2], [3, 4]])).all()",
        "assert np.max(mat()) == 4 and np.array_equal(mat() * 2, [[2, 4], [6, 8]])",
        "assert normalize([3, 4]).dtype == np.float64 and np.allclose(normalize([3, 4]), [0.6, 0.8])",
        "assert np.zeros((0, 3)).shape == empty().shape",
        # Asserts that name no numpy: the attributes only an array has send them there too.
        "assert (scale([1, 2, 3], 2) == [2, 4, 6]).all()",
        "assert (mat() > 0).all() and mat().max() == 4 and mat().min() == 1",
        "assert mat().dtype == int and mat()[1][0] == 3",
    ]
    result = run(MATRIX, ["import numpy as np\n" + t for t in tests])
    assert result.verdict is Verdict.PASSED, result.to_dict()
    wrong = (
        MATRIX.replace("* k", "* k + 1")
        .replace("[3, 4]]", "[4, 5]]")
        .replace("return v / np", "return (v / np")
        .replace("norm(v)\n", "norm(v)).astype(np.float32)\n")
    )
    result = run(wrong, ["import numpy as np\n" + t for t in tests[:6]] + tests[8:])
    assert result.passed == 0, result.to_dict()
    for bare in tests[7:]:  # without the test's import: the host plans them
        assert run(MATRIX, [bare]).verdict is Verdict.PASSED, bare


def test_a_zero_dimensional_array_is_the_number_it_holds(run):
    program = (
        "import numpy as np\ndef f():\n    return np.asarray(3.0)\ndef g():\n    return np.squeeze(np.array([[7]]))\n"
        "def h():\n    return np.array(True)\n"
    )
    tests = ["assert f() == 3.0", "assert g() == 7", "assert h() == True", "assert f() == 4.0"]
    got = [t.verdict for t in run(program, tests).tests]
    assert got == [Verdict.PASSED] * 3 + [Verdict.FAILED], got
