"""The same small programs in every language the farm runs, for the per-language suite.

One problem for all of them: read two integers, print their sum (`SUM_TESTS`). Each language
has a right and a wrong solution (the product: right only where a*b == a+b), a program that
does not compile (or, for the interpreted ones, does not parse), one that crashes at run time,
one that spins on the CPU, one that sleeps, one that allocates and touches far more memory
than its limit, one that floods stdout, and a raw run that writes to stdout and stderr and
exits with status 3.
"""

from __future__ import annotations

SUM_TESTS = [
    {"stdin": "1 2\n", "expected_stdout": "3\n"},
    {"stdin": "2 2\n", "expected_stdout": "4\n"},
    {"stdin": "40 2\n", "expected_stdout": "42\n"},
]
# The wrong solution multiplies: right for "2 2" only.
WRONG_VERDICTS = ("failed", "passed", "failed")

# What the raw program prints and how it ends, in every language.
RAW_STDOUT = "out 41\n"
RAW_STDERR = "err\n"
RAW_EXIT = 3
RAW_STDIN = "41\n"

C = {
    "right": '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);return 0;}\n',
    "wrong": '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a*b);return 0;}\n',
    "compile_error": "#include <stdio.h>\nint main(void){ int x = ; return y; }\n",
    "runtime_error": '#include <stdio.h>\nint main(void){ volatile int *p = 0; *p = 1; puts("no"); return 0; }\n',
    "cpu_loop": "int main(void){ volatile unsigned long i = 0; for(;;) i++; }\n",
    "sleep": "#include <unistd.h>\nint main(void){ sleep(60); return 0; }\n",
    # Touches every page it gets; a NULL from malloc is reported as a failed allocation.
    "memory": (
        "#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>\n"
        "int main(void){ for(;;){ char *p = malloc(1 << 20);"
        ' if(!p){ fputs("out of memory\\n", stderr); abort(); } memset(p, 1, 1 << 20); } }\n'
    ),
    "flood": '#include <stdio.h>\nint main(void){ for(;;) fputs("flood flood flood flood\\n", stdout); }\n',
    "raw": (
        '#include <stdio.h>\nint main(void){ int n; scanf("%d", &n); printf("out %d\\n", n);'
        ' fprintf(stderr, "err\\n"); return 3; }\n'
    ),
}

CPP = {
    "right": '#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}\n',
    "wrong": '#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a*b<<"\\n";}\n',
    "compile_error": '#include <vector>\nint main(){ std::vector<int> v; v.push_back("x"); return v.size() }\n',
    "runtime_error": "#include <vector>\n#include <iostream>\nint main(){ std::vector<int> v; std::cout << v.at(5); }\n",
    "cpu_loop": "int main(){ volatile unsigned long i = 0; for(;;) i++; }\n",
    "sleep": "#include <thread>\n#include <chrono>\nint main(){ std::this_thread::sleep_for(std::chrono::seconds(60)); }\n",
    "memory": (
        "#include <vector>\n#include <cstring>\nint main(){ std::vector<char*> keep;"
        " for(;;){ char *p = new char[1 << 20]; std::memset(p, 1, 1 << 20); keep.push_back(p); } }\n"
    ),
    "flood": '#include <iostream>\nint main(){ std::ios::sync_with_stdio(false); for(;;) std::cout << "flood flood\\n"; }\n',
    "raw": (
        '#include <iostream>\nint main(){ int n; std::cin >> n; std::cout << "out " << n << "\\n";'
        ' std::cerr << "err\\n"; return 3; }\n'
    ),
}

# C++20 only: a three-way comparison and a std::span (neither is C++17).
CPP20_RIGHT = (
    "#include <compare>\n#include <iostream>\n#include <span>\n"
    "int main(){ long long v[2]; std::cin >> v[0] >> v[1]; std::span<long long> s(v);"
    ' auto c = s[0] <=> s[1]; (void)c; std::cout << s[0] + s[1] << "\\n"; }\n'
)

JAVA = {
    "right": (
        "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        "    Scanner in = new Scanner(System.in);\n    System.out.println(in.nextLong() + in.nextLong());\n  }\n}\n"
    ),
    "wrong": (
        "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        "    Scanner in = new Scanner(System.in);\n    System.out.println(in.nextLong() * in.nextLong());\n  }\n}\n"
    ),
    "compile_error": 'public class Main {\n  public static void main(String[] a) {\n    int x = "no";\n  }\n}\n',
    "runtime_error": (
        "public class Main {\n  public static void main(String[] a) {\n    int[] v = new int[2];\n"
        "    System.out.println(v[5]);\n  }\n}\n"
    ),
    "cpu_loop": (
        "public class Main {\n  static volatile long n;\n  public static void main(String[] a) {\n"
        "    for (;;) n++;\n  }\n}\n"
    ),
    "sleep": "public class Main {\n  public static void main(String[] a) throws Exception {\n    Thread.sleep(60000);\n  }\n}\n",
    "memory": (
        "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        "    List<long[]> keep = new ArrayList<>();\n"
        "    for (;;) { long[] b = new long[1 << 17]; Arrays.fill(b, 1L); keep.add(b); }\n  }\n}\n"
    ),
    "flood": (
        "import java.io.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        "    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));\n"
        '    for (;;) out.println("flood flood");\n  }\n}\n'
    ),
    "raw": (
        "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n"
        '    int n = new Scanner(System.in).nextInt();\n    System.out.println("out " + n);\n'
        '    System.err.println("err");\n    System.exit(3);\n  }\n}\n'
    ),
}

JAVASCRIPT = {
    "right": (
        "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\n"
        "console.log((a + b).toString());\n"
    ),
    "wrong": (
        "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\n"
        "console.log((a * b).toString());\n"
    ),
    "compile_error": "const x = ;\nconsole.log(x);\n",
    "runtime_error": "const o = null;\nconsole.log(o.field);\n",
    "cpu_loop": "let i = 0;\nfor (;;) i++;\n",
    "sleep": "setTimeout(() => console.log('late'), 60000);\n",
    "memory": "const keep = [];\nfor (;;) keep.push(new Array(1 << 16).fill(1.5));\n",
    "flood": "const line = 'flood flood\\n'.repeat(1000);\nfor (;;) process.stdout.write(line);\n",
    "raw": (
        "const n = parseInt(require('fs').readFileSync(0, 'utf8'));\n"
        "process.stdout.write('out ' + n + '\\n');\nprocess.stderr.write('err\\n');\nprocess.exitCode = 3;\n"
    ),
}

GO = {
    "right": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n',
    "wrong": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a * b)\n}\n',
    "compile_error": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tx := 1\n\tfmt.Println("no" + x)\n}\n',
    "runtime_error": 'package main\n\nfunc main() {\n\tvar m map[string]int\n\tm["x"] = 1\n}\n',
    "cpu_loop": "package main\n\nvar n int\n\nfunc main() {\n\tfor {\n\t\tn++\n\t}\n}\n",
    "sleep": 'package main\n\nimport "time"\n\nfunc main() {\n\ttime.Sleep(60 * time.Second)\n}\n',
    "memory": (
        "package main\n\nvar keep [][]byte\n\nfunc main() {\n\tfor {\n\t\tb := make([]byte, 1<<20)\n"
        "\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n\t\tkeep = append(keep, b)\n\t}\n}\n"
    ),
    "flood": (
        'package main\n\nimport (\n\t"bufio"\n\t"os"\n)\n\nfunc main() {\n\tw := bufio.NewWriter(os.Stdout)\n'
        '\tfor {\n\t\tw.WriteString("flood flood\\n")\n\t}\n}\n'
    ),
    "raw": (
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tvar n int\n\tfmt.Scan(&n)\n'
        '\tfmt.Printf("out %d\\n", n)\n\tfmt.Fprintln(os.Stderr, "err")\n\tos.Exit(3)\n}\n'
    ),
}

RUST = {
    "right": (
        "use std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '    println!("{}", v[0] + v[1]);\n}\n'
    ),
    "wrong": (
        "use std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '    println!("{}", v[0] * v[1]);\n}\n'
    ),
    "compile_error": 'fn main() {\n    let x: i32 = "no";\n    println!("{}", x);\n}\n',
    "runtime_error": 'fn main() {\n    let v: Vec<i32> = Vec::new();\n    let i = v.len() + 5;\n    println!("{}", v[i]);\n}\n',
    "cpu_loop": (
        "fn main() {\n    let mut n: u64 = 0;\n    loop {\n"
        "        unsafe { std::ptr::write_volatile(&mut n, n.wrapping_add(1)) };\n    }\n}\n"
    ),
    "sleep": "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(60));\n}\n",
    "memory": (
        "fn main() {\n    let mut keep: Vec<Vec<u8>> = Vec::new();\n    loop {\n"
        "        keep.push(vec![1u8; 1 << 20]);\n    }\n}\n"
    ),
    "flood": (
        "use std::io::Write;\nfn main() {\n    let out = std::io::stdout();\n    let mut w = std::io::BufWriter::new(out.lock());\n"
        '    loop {\n        if w.write_all(b"flood flood\\n").is_err() {\n            return;\n        }\n    }\n}\n'
    ),
    "raw": (
        "use std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n    let n: i32 = s.trim().parse().unwrap();\n"
        '    println!("out {}", n);\n    eprintln!("err");\n    std::process::exit(3);\n}\n'
    ),
}

BASH = {
    "right": "read a b\necho $((a + b))\n",
    "wrong": "read a b\necho $((a * b))\n",
    "compile_error": "read a b\nif [ $a -gt 0 ]; then\necho $((a + b))\n",
    "runtime_error": "set -e\nread a b\ncd /no/such/dir\necho $((a + b))\n",
    "cpu_loop": "i=0\nwhile true; do i=$((i + 1)); done\n",
    "sleep": "read -t 60 x < <(sleep 60)\n",
    "memory": "s=x\nwhile true; do s=$s$s; done\n",
    "flood": "while true; do echo flood flood flood flood; done\n",
    "raw": "read n\necho out $n\necho err >&2\nexit 3\n",
}

PYTHON = {
    "right": "a, b = map(int, input().split())\nprint(a + b)\n",
    "wrong": "a, b = map(int, input().split())\nprint(a * b)\n",
    "compile_error": "a, b = map(int, input().split()\nprint(a + b)\n",
    "runtime_error": "a, b = map(int, input().split())\nprint(a // 0)\n",
    "cpu_loop": "while True:\n    pass\n",
    "sleep": "import time\ntime.sleep(60)\n",
    "memory": "keep = []\nwhile True:\n    keep.append(bytearray(1 << 20))\n",
    "flood": "while True:\n    print('flood flood')\n",
    "raw": "import sys\nn = int(input())\nprint('out', n)\nprint('err', file=sys.stderr)\nsys.exit(3)\n",
}

PROGRAMS: dict[str, dict[str, str]] = {
    "python": PYTHON,
    "c": C,
    "cpp": CPP,
    "cpp20": {**CPP, "right": CPP20_RIGHT},
    "java": JAVA,
    "javascript": JAVASCRIPT,
    "go": GO,
    "rust": RUST,
    "bash": BASH,
}
# The languages with a build step (compile_error, a build in every result).
COMPILED = ("c", "cpp", "cpp20", "java", "go", "rust")
