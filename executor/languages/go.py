"""Go (Debian's go 1.19): `go build` without cgo, a static binary."""

from .base import Language
from .c import SUM

LANGUAGE = Language(
    name="go",
    title="Go (gc)",
    source="main.go",
    compile=("{go}", "build", "-o", "main", "{source}"),
    run=("./main",),
    tools=("go",),
    version=("{go}", "version"),
    packages=("golang-go",),
    threads=32,
    address_space="data",
    oom=("fatal error: runtime: out of memory",),
    env=(("CGO_ENABLED", "0"), ("GO111MODULE", "off"), ("GOCACHE", "/tmp/w/.gocache"), ("GOMAXPROCS", "1")),
    compile_limits={"cpu_s": 20.0, "wall_s": 40.0, "memory_mb": 1536, "output_kb": 1024, "processes": 64},
    self_test=(
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n'
        "\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n",
        SUM,
        ("passed", "failed"),
    ),
)
