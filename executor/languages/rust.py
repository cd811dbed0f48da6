"""Rust (Debian's rustc), edition 2021, -O, linked by gcc (Debian's `cc` is an alternatives
link the sandbox does not see)."""

from .base import Language
from .c import SUM

LANGUAGE = Language(
    name="rust",
    title="Rust (rustc)",
    source="main.rs",
    compile=(
        "{rustc}",
        "--edition",
        "2021",
        "-O",
        "-C",
        "linker={gcc}",
        "-C",
        "strip=symbols",
        "-A",
        "warnings",  # hundreds of unused-variable warnings are no reason to stop a build
        "-o",
        "main",
        "{source}",
    ),
    run=("./main",),
    threads=8,  # std::thread / pthreads (a big-stack worker thread is a common idiom); never processes
    tools=("rustc", "gcc"),
    version=("{rustc}", "--version"),
    packages=("rustc",),
    address_space="cgroup",
    oom=("memory allocation of ",),  # "memory allocation of N bytes failed", then abort
    compile_limits={"cpu_s": 20.0, "wall_s": 40.0, "memory_mb": 1536, "output_kb": 1024, "processes": 32},
    self_test=(
        "use std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '    println!("{}", v[0] + v[1]);\n}\n',
        SUM,
        ("passed", "failed"),
    ),
)
