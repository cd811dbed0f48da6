"""C++ with g++ -O2: `cpp` is C++17, `cpp20` C++20 (the same toolchain).

Each build looks for bits/stdc++.h precompiled (`make setup` makes it, for these exact flags)
in PCH_DIR/<std> first: contest programs include it, and parsing it is most of their build
(1.2 s of CPU; 0.3 s with it). Where it is missing or stale, g++ reads the header.
"""

from dataclasses import replace

from .base import Language
from .c import SUM

PCH_DIR = "/usr/local/lib/acefarm/pch"


def _compile(std: str) -> tuple[str, ...]:
    return ("{g++}", f"-std={std}", "-O2", "-pipe", f"-I{PCH_DIR}/{std}", "-o", "main", "{source}")


LANGUAGE = Language(
    name="cpp",
    title="C++17 (g++)",
    source="main.cpp",
    compile=_compile("gnu++17"),
    run=("./main",),
    threads=8,  # std::thread / pthreads (a big-stack worker thread is a common idiom); never processes
    tools=("g++",),
    version=("{g++}", "--version"),
    packages=("g++",),
    address_space="cgroup",
    oom=("std::bad_alloc",),
    self_test=(
        "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n",
        SUM,
        ("passed", "failed"),
    ),
)

CPP20 = replace(
    LANGUAGE,
    name="cpp20",
    title="C++20 (g++)",
    compile=_compile("gnu++20"),
)
