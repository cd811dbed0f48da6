"""C (C11 by default: GNU C17 as gcc 12 has it), compiled with gcc -O2."""

from .base import Language

SUM = (("1 2\n", "3\n"), ("2 2\n", "5\n"))  # the self-tests' problem: a right, then a wrong answer

LANGUAGE = Language(
    name="c",
    title="C17 (gcc)",
    source="main.c",
    compile=("{gcc}", "-std=gnu17", "-O2", "-pipe", "-o", "main", "{source}", "-lm"),
    run=("./main",),
    threads=8,  # std::thread / pthreads (a big-stack worker thread is a common idiom); never processes
    tools=("gcc",),
    version=("{gcc}", "--version"),
    packages=("gcc", "libc6-dev"),
    address_space="cgroup",
    self_test=(
        '#include <stdio.h>\nint main(void) {\n  long a, b;\n  if (scanf("%ld %ld", &a, &b) != 2) return 1;\n'
        '  printf("%ld\\n", a + b);\n  return 0;\n}\n',
        SUM,
        ("passed", "failed"),
    ),
)
