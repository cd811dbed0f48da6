"""Languages as declarative modules (executor/languages/) and what a job in one may carry."""

import pytest

from executor import InvalidJob, Job
from executor.languages import COMMANDS, NAMES, base, java


def test_every_language_is_declared_with_what_the_farm_needs():
    assert NAMES[0] == "python" and set(NAMES) >= {"c", "cpp", "cpp20", "java", "javascript", "go", "rust", "bash"}
    for lang in COMMANDS.values():
        program, cases, expected = lang.self_test
        assert program and len(cases) == len(expected) and "passed" in expected and "failed" in expected
        assert lang.tools and lang.packages and lang.run
        assert lang.address_space in ("limit", "cgroup", "data", "none")


@pytest.mark.parametrize(
    "program, names",
    [
        ("public class Solution { public static void main(String[] a) {} }", ("Solution.java", "Solution")),
        ("import java.util.*;\nclass Codechef { public static void main(String[] a) {} }", ("Main.java", "Codechef")),
        (
            "class Node { int v; }\nclass Main {\n  static public void main(String[] args) {}\n}",
            ("Main.java", "Main"),
        ),
        ("public final class A { static void f(){} public static void main(String[] x){} }", ("A.java", "A")),
        # A comment or a string that names a class is no declaration.
        (
            "/* public class Main would do */\npublic class Solution { public static void main(String[] a) {} }",
            ("Solution.java", "Solution"),
        ),
        (
            'public class S { static String s = "public class F"; public static void main(String[] a) {} }',
            ("S.java", "S"),
        ),
        ("public interface Solution { static void main(String[] a) {} }", ("Solution.java", "Solution")),
        # main(String...) is the entry point, not an overload; nested types are not top-level ones.
        (
            "class Helper { static void main(int x) {} }\nclass Prog { public static void main(String[] a) {} }",
            ("Main.java", "Prog"),
        ),
        ("class Main { static class FastReader { } public static void main(String[] a) {} }", ("Main.java", "Main")),
        ("class Main { public static class Pair { } public static void main(String... a) {} }", ("Main.java", "Main")),
        ("public class Sol { }\nclass Runner { public static void main(String[] a) {} }", ("Sol.java", "Runner")),
    ],
)
def test_a_java_program_names_its_file_and_main_class(program, names):
    assert java.names(program) == names


@pytest.mark.parametrize(
    "program",
    [
        "'\\" * 131_000,  # a character literal never closed, its escapes to the line's end
        '"\\' * 131_000,
        "/*" * 131_000,
        '"""' * 87_000,
        ("class A { '" + "x" * 60 + "\n") * 3_000,
    ],
)
def test_reading_a_java_programs_names_is_linear_in_its_length(program):
    """The names are read on the host from a program of up to 256 KiB: literals left open must
    not make the reading try again from every quote (64 KiB of \\' pairs once took 25 s)."""
    import time

    before = time.thread_time()
    java.names(program)
    assert time.thread_time() - before < 1.0  # linear: about 0.06 s


def test_a_literal_left_open_hides_only_the_rest_of_its_line():
    program = 'String s = "open\npublic class D { public static void main(String[] a) {} }'
    assert java.names(program) == ("D.java", "D")


def test_a_build_key_changes_with_the_toolchain_and_the_source():
    lang = COMMANDS["cpp"]
    a = base.Toolchain(lang, {"g++": "/usr/bin/g++"}, "g++ 12.2.0")
    b = base.Toolchain(lang, {"g++": "/usr/bin/g++"}, "g++ 13.1.0")
    assert a.build_key("int main(){}") != b.build_key("int main(){}")
    assert a.build_key("int main(){}") != a.build_key("int main(){ }")
    assert a.build_key("int main(){}") == a.build_key("int main(){}")


def test_commands_get_real_tool_paths_and_the_heap_share():
    tc = base.Toolchain(COMMANDS["java"], {"java": "/usr/lib/jvm/x/bin/java", "javac": "/j/javac"}, "17")
    argv = tc.command(tc.language.run, "public class P { public static void main(String[] a){} }", 512)
    assert argv[0] == "/usr/lib/jvm/x/bin/java" and "-Xmx435m" in argv and argv[-1] == "P"


def test_a_language_other_than_python_takes_stdio_tests_and_raw_runs_only():
    ok = Job.from_dict({"id": "a", "language": "cpp", "program": "", "tests": [{"stdin": "", "expected_stdout": ""}]})
    assert ok.language == "cpp"
    Job.from_dict({"id": "r", "language": "go", "program": "", "tests": [{"raw": {"stdin": "x"}}]})
    with pytest.raises(InvalidJob, match=r"tests\[0\].*Python-only.*'java' job takes stdin/stdout"):
        Job.from_dict({"id": "b", "language": "java", "program": "", "tests": ["assert f()"]})
    call = {"call": "f", "args": [], "expected": 1}
    with pytest.raises(InvalidJob, match=r"tests\[0\].*Python-only"):
        Job.from_dict({"id": "b", "language": "rust", "program": "", "tests": [call]})
    with pytest.raises(InvalidJob, match="unknown language 'cobol'"):
        Job.from_dict({"id": "c", "language": "cobol", "program": "", "tests": ["assert 1"]})


def test_the_code_rl_shape_gives_other_languages_no_python_prelude():
    job = Job.from_dict({"id": "a", "language": "cpp", "program": "", "tests": {"inputs": ["1\n"], "outputs": ["1\n"]}})
    assert job.prelude == ""
    with pytest.raises(InvalidJob, match="prelude"):
        Job.from_dict(
            {
                "id": "b",
                "language": "c",
                "program": "",
                "prelude": "lcb",
                "tests": [{"stdin": "", "expected_stdout": ""}],
            }
        )
