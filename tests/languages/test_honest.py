"""Honest programs written the way contest programs are, which must pass with default limits
(each a class a red team found failing), and odd programs that must end as their own verdict."""

from __future__ import annotations

import pytest

from .support import job, require, show, stdin_test

SUM = [stdin_test("1 2\n", "3\n"), stdin_test("20 22\n", "42\n")]

HONEST = {
    # A worker thread with a big stack: Rust's and C++'s idiom for deep recursion.
    "rust-big-stack-thread": (
        "rust",
        "use std::io::*;\nfn d(n: u64) -> u64 { if n == 0 { 0 } else { 1 + d(n - 1) } }\n"
        "fn main() { let mut s = String::new(); stdin().read_to_string(&mut s).unwrap();\n"
        "  let v: Vec<u64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); let n = v[0] + v[1];\n"
        "  let h = std::thread::Builder::new().stack_size(1 << 28).spawn(move || d(n * 1000) / 1000).unwrap();\n"
        '  println!("{}", h.join().unwrap()); }\n',
    ),
    "cpp-thread": (
        "cpp",
        "#include <bits/stdc++.h>\nint main(){ long long a,b; std::cin>>a>>b; long long r=0;\n"
        "  std::thread t([&]{ r = a + b; }); t.join(); std::cout << r << std::endl; }\n",
    ),
    # Hundreds of warnings are no reason to stop a build.
    "rust-warnings": (
        "rust",
        "use std::io::*;\nfn main() {\n"
        + "".join(f"  let x{i} = {i};\n" for i in range(400))
        + "  let mut s = String::new(); stdin().read_to_string(&mut s).unwrap();\n"
        "  let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '  println!("{}", v[0] + v[1]);\n}\n',
    ),
    # One array of 300 MB in a 512 MB job: the JVM's old generation must hold it.
    "java-300mb-array": (
        "java",
        "public class Main { public static void main(String[] a) { java.util.Scanner s = new java.util.Scanner(System.in);\n"
        "  long t = s.nextLong() + s.nextLong(); int[] big = new int[75_000_000]; big[7] = 1;\n"
        "  System.out.println(t + big[7] - 1); } }\n",
    ),
}


@pytest.mark.parametrize("case", sorted(HONEST))
def test_honest_programs_pass(pool, case):
    lang, program = HONEST[case]
    require(pool, lang)
    result = pool.run(job(lang, program, SUM))
    assert result.verdict.value == "passed", show(result)


def test_a_java_class_no_file_may_be_named_after_is_a_compile_error(pool):
    require(pool, "java")
    program = "public class " + "X" * 252 + " { public static void main(String[] a) { System.out.println(3); } }"
    result = pool.run(job("java", program, SUM))
    assert result.verdict.value == "compile_error", show(result)


def test_a_java_program_in_a_package_says_why_it_does_not_run(pool):
    require(pool, "java")
    program = "package x;\npublic class Main { public static void main(String[] a) { System.out.println(3); } }"
    result = pool.run(job("java", program, SUM))
    assert result.verdict.value == "compile_error" and "*.class" in (result.message or ""), show(result)
