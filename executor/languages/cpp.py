"""C++ with g++ -O2: `cpp` is C++17, `cpp20` C++20 (the same toolchain)."""

from dataclasses import replace

from .base import Language
from .c import SUM

LANGUAGE = Language(
    name="cpp",
    title="C++17 (g++)",
    source="main.cpp",
    compile=("{g++}", "-std=gnu++17", "-O2", "-pipe", "-o", "main", "{source}"),
    run=("./main",),
    tools=("g++",),
    version=("{g++}", "--version"),
    packages=("g++",),
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
    compile=("{g++}", "-std=gnu++20", "-O2", "-pipe", "-o", "main", "{source}"),
)
