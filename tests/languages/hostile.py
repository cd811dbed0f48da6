"""Hostile programs in C, Java and Go, for the categories of tests/security that make sense
outside Python: files outside the working directory, the network, other processes (/proc,
signals to the zygote and the fork server), other jobs' leftovers, process and thread bombs,
running a shell.

Each probe reads its targets from stdin, one per line, prints one line for each attempt that
got through, and ends with "done": its expected stdout is "done\\n", so a probe that crashes
or is cut short never passes, and one that breaches anything fails with the breach named.
"""

from __future__ import annotations

HOSTILE_LANGUAGES = ("c", "java", "go")

# -- reads: "path" per line; a file read (one byte) or a directory listed is a breach --------
READ = {
    "c": r"""
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  char path[4096];
  while (fgets(path, sizeof path, stdin)) {
    path[strcspn(path, "\n")] = 0;
    DIR *d = opendir(path);
    if (d) {
      int n = 0;
      struct dirent *e;
      while ((e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
      closedir(d);
      if (n) printf("LISTED %s\n", path);
      continue;
    }
    int fd = open(path, O_RDONLY);
    char c;
    if (fd >= 0 && read(fd, &c, 1) == 1) printf("READ %s\n", path);
  }
  puts("done");
  return 0;
}
""",
    "java": r"""
import java.io.*;
import java.nio.file.*;
public class Main {
  public static void main(String[] a) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String path; (path = in.readLine()) != null; ) {
      File f = new File(path);
      String[] names = f.list();
      if (names != null) {
        if (names.length > 0) System.out.println("LISTED " + path);
        continue;
      }
      try (InputStream s = new FileInputStream(f)) {
        if (s.read() >= 0) System.out.println("READ " + path);
      } catch (IOException e) {
      }
    }
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		path := sc.Text()
		if names, err := os.ReadDir(path); err == nil {
			if len(names) > 0 {
				fmt.Println("LISTED " + path)
			}
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		b := make([]byte, 1)
		if n, _ := f.Read(b); n == 1 {
			fmt.Println("READ " + path)
		}
		f.Close()
	}
	fmt.Println("done")
}
""",
}

# -- writes: "path" per line (a file to create); creating it is a breach -------------------
WRITE = {
    "c": r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  char path[4096];
  while (fgets(path, sizeof path, stdin)) {
    path[strcspn(path, "\n")] = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd >= 0 && write(fd, "pwned", 5) == 5) printf("WROTE %s\n", path);
  }
  puts("done");
  return 0;
}
""",
    "java": r"""
import java.io.*;
public class Main {
  public static void main(String[] a) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String path; (path = in.readLine()) != null; ) {
      try (FileOutputStream s = new FileOutputStream(path)) {
        s.write("pwned".getBytes());
        System.out.println("WROTE " + path);
      } catch (IOException e) {
      }
    }
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		path := sc.Text()
		if err := os.WriteFile(path, []byte("pwned"), 0666); err == nil {
			fmt.Println("WROTE " + path)
		}
	}
	fmt.Println("done")
}
""",
}

# -- the network: "host port" per line; a TCP connection made is a breach --------------------
CONNECT = {
    "c": r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
int main(void) {
  char host[256];
  int port;
  while (scanf("%255s %d", host, &port) == 2) {
    int six = strchr(host, ':') != NULL;
    int s = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (s < 0) continue;
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int ok;
    if (six) {
      struct sockaddr_in6 a = {0};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      inet_pton(AF_INET6, host, &a.sin6_addr);
      ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    } else {
      struct sockaddr_in a = {0};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      inet_pton(AF_INET, host, &a.sin_addr);
      ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    }
    if (ok) printf("CONNECTED %s %d\n", host, port);
    close(s);
  }
  puts("done");
  return 0;
}
""",
    "java": r"""
import java.io.*;
import java.net.*;
public class Main {
  public static void main(String[] a) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line; (line = in.readLine()) != null; ) {
      String[] hp = line.trim().split(" ");
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 1000);
        System.out.println("CONNECTED " + line);
      } catch (IOException e) {
      }
    }
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		hp := strings.Fields(sc.Text())
		c, err := net.DialTimeout("tcp", net.JoinHostPort(hp[0], hp[1]), time.Second)
		if err == nil {
			fmt.Println("CONNECTED " + sc.Text())
			c.Close()
		}
	}
	fmt.Println("done")
}
""",
}

# -- other processes: /proc shows only the sandbox's own, none of which can be read or signalled.
# Prints every /proc entry that is not init (1), itself, its parent (the fork server) or the
# zygote above it; every one of those three whose environ or memory it can read; and every pid
# (of the first 4096, but its own threads: a signal to one ends the whole program) and process
# group it can send SIGKILL to, and kill(-1).
PROCESSES = {
    "c": r"""
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int parent_of(int pid) {
  char p[64], buf[512];
  snprintf(p, sizeof p, "/proc/%d/stat", pid);
  FILE *f = fopen(p, "r");
  if (!f) return -1;
  int ppid = -1;
  if (fgets(buf, sizeof buf, f)) { char *r = strrchr(buf, ')'); if (r) sscanf(r + 2, "%*c %d", &ppid); }
  fclose(f);
  return ppid;
}
int main(void) {
  int me = getpid(), forker = getppid(), zygote = parent_of(forker);
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    int pid = atoi(e->d_name);
    if (pid != 1 && pid != me && pid != forker && pid != zygote) printf("SEES %d\n", pid);
  }
  int targets[3] = {1, forker, zygote};
  const char *what[3] = {"environ", "mem", "maps"};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      char p[64], c;
      snprintf(p, sizeof p, "/proc/%d/%s", targets[i], what[j]);
      int fd = open(p, O_RDONLY);
      if (fd >= 0 && read(fd, &c, 1) == 1) printf("READ %s\n", p);
    }
  if (kill(-1, SIGKILL) == 0) puts("KILLED -1");
  for (int pid = 1; pid <= 4096; pid++) {
    if (pid == me) continue;
    if (kill(pid, SIGKILL) == 0) printf("KILLED %d\n", pid);
    if (kill(-pid, SIGKILL) == 0) printf("KILLED group %d\n", pid);
  }
  puts("done");
  return 0;
}
""",
    "java": r"""
import java.io.*;
import java.nio.file.*;
import java.util.*;
public class Main {
  static long parentOf(long pid) {
    try {
      String s = new String(Files.readAllBytes(Paths.get("/proc/" + pid + "/stat")));
      return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[1]);
    } catch (Exception e) {
      return -1;
    }
  }
  // One of this JVM's own threads, asked right before each kill: the JVM starts threads
  // (compilers, cleaners) while the loop runs, and SIGKILL to any of them ends the program.
  static boolean ours(long pid, long me) {
    try {
      for (String l : Files.readAllLines(Paths.get("/proc/" + pid + "/status")))
        if (l.startsWith("Tgid:")) return Long.parseLong(l.substring(5).trim()) == me;
    } catch (Exception e) {
    }
    return false;
  }
  public static void main(String[] a) throws Exception {
    long me = ProcessHandle.current().pid(), forker = parentOf(me), zygote = parentOf(forker);
    for (String name : new File("/proc").list()) {
      if (!name.matches("[0-9]+")) continue;
      long pid = Long.parseLong(name);
      if (pid != 1 && pid != me && pid != forker && pid != zygote) System.out.println("SEES " + pid);
    }
    for (long pid : new long[] {1, forker, zygote})
      for (String what : new String[] {"environ", "mem", "maps"}) {
        try (InputStream s = new FileInputStream("/proc/" + pid + "/" + what)) {
          if (s.read() >= 0) System.out.println("READ /proc/" + pid + "/" + what);
        } catch (IOException e) {
        }
      }
    ProcessHandle.allProcesses().forEach(p -> {
      if (!ours(p.pid(), me) && p.destroyForcibly()) System.out.println("KILLED " + p.pid());
    });
    for (long pid = 1; pid <= 4096; pid++) {
      if (ours(pid, me)) continue;
      Optional<ProcessHandle> p = ProcessHandle.of(pid);
      if (p.isPresent() && p.get().destroyForcibly()) System.out.println("KILLED " + pid);
    }
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	p, _ := strconv.Atoi(f[1])
	return p
}

// One of this program's own threads, asked right before each kill: the runtime starts threads
// while the loop runs, and SIGKILL to any of them ends the program.
func ours(pid, me int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Tgid:") {
			t, _ := strconv.Atoi(strings.TrimSpace(l[5:]))
			return t == me
		}
	}
	return false
}

func main() {
	me := os.Getpid()
	forker := os.Getppid()
	zygote := parentOf(forker)
	names, _ := os.ReadDir("/proc")
	for _, n := range names {
		pid, err := strconv.Atoi(n.Name())
		if err == nil && pid != 1 && pid != me && pid != forker && pid != zygote {
			fmt.Println("SEES", pid)
		}
	}
	for _, pid := range []int{1, forker, zygote} {
		for _, what := range []string{"environ", "mem", "maps"} {
			p := fmt.Sprintf("/proc/%d/%s", pid, what)
			if f, err := os.Open(p); err == nil {
				if n, _ := f.Read(make([]byte, 1)); n == 1 {
					fmt.Println("READ", p)
				}
				f.Close()
			}
		}
	}
	if syscall.Kill(-1, syscall.SIGKILL) == nil {
		fmt.Println("KILLED -1")
	}
	for pid := 1; pid <= 4096; pid++ {
		if ours(pid, me) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			fmt.Println("KILLED", pid)
		}
		if syscall.Kill(-pid, syscall.SIGKILL) == nil {
			fmt.Println("KILLED group", pid)
		}
	}
	fmt.Println("done")
}
""",
}

# -- leftovers: PLANT writes the secret (its stdin) where a later job might find it; SEARCH
# lists everything in the working directory, /tmp, /dev/shm and /var/tmp (but the empty
# working directory itself) and every planted path that still exists.
PLANTED = ("left.txt", "/tmp/left.txt", "/tmp/w/.hidden", "/dev/shm/left.txt", "/var/tmp/left.txt")
SEARCHED = ("/tmp/w", "/tmp", "/dev/shm", "/var/tmp")

PLANT = {
    "c": r"""
#include <stdio.h>
#include <string.h>
int main(void) {
  char secret[256] = {0};
  fgets(secret, sizeof secret, stdin);
  const char *paths[] = {%s};
  int n = 0;
  for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
    FILE *f = fopen(paths[i], "w");
    if (f && fputs(secret, f) >= 0 && fclose(f) == 0) n++;
  }
  printf("planted %%d\n", n);
  return 0;
}
""",
    "java": r"""
import java.io.*;
import java.nio.file.*;
public class Main {
  public static void main(String[] a) throws Exception {
    String secret = new BufferedReader(new InputStreamReader(System.in)).readLine();
    int n = 0;
    for (String p : new String[] {%s}) {
      try {
        Files.write(Paths.get(p), secret.getBytes());
        n++;
      } catch (IOException e) {
      }
    }
    System.out.println("planted " + n);
  }
}
""",
    "go": r"""
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	secret, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	n := 0
	for _, p := range []string{%s} {
		if os.WriteFile(p, []byte(secret), 0644) == nil {
			n++
		}
	}
	fmt.Printf("planted %%d\n", n)
}
""",
}

SEARCH = {
    "c": r"""
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  const char *dirs[] = {%s};
  const char *planted[] = {%s};
  for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    DIR *d = opendir(dirs[i]);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      if (!strcmp(dirs[i], "/tmp") && !strcmp(e->d_name, "w")) continue;
      if (!strcmp(dirs[i], "/tmp/w") && !strcmp(e->d_name, "main")) continue;
      printf("FOUND %%s/%%s\n", dirs[i], e->d_name);
    }
    if (d) closedir(d);
  }
  for (unsigned i = 0; i < sizeof planted / sizeof *planted; i++)
    if (access(planted[i], F_OK) == 0) printf("EXISTS %%s\n", planted[i]);
  puts("done");
  return 0;
}
""",
    "java": r"""
import java.io.*;
public class Main {
  public static void main(String[] a) {
    for (String dir : new String[] {%s}) {
      String[] names = new File(dir).list();
      if (names == null) continue;
      for (String n : names) {
        if (dir.equals("/tmp") && n.equals("w")) continue;
        if (dir.equals("/tmp/w") && n.endsWith(".class")) continue;
        System.out.println("FOUND " + dir + "/" + n);
      }
    }
    for (String p : new String[] {%s})
      if (new File(p).exists()) System.out.println("EXISTS " + p);
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"fmt"
	"os"
)

func main() {
	for _, dir := range []string{%s} {
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			if (dir == "/tmp" && n.Name() == "w") || (dir == "/tmp/w" && n.Name() == "main") {
				continue
			}
			fmt.Printf("FOUND %%s/%%s\n", dir, n.Name())
		}
	}
	for _, p := range []string{%s} {
		if _, err := os.Stat(p); err == nil {
			fmt.Println("EXISTS", p)
		}
	}
	fmt.Println("done")
}
""",
}


def _list(lang: str, items: tuple[str, ...]) -> str:
    """`items` as the elements of a string array literal in `lang` (plain ASCII paths)."""
    return ", ".join('"%s"' % item for item in items)


def plant(lang: str) -> str:
    return PLANT[lang] % _list(lang, PLANTED)


def search(lang: str) -> str:
    return SEARCH[lang] % (_list(lang, SEARCHED), _list(lang, PLANTED))


# -- process bombs: fork (C), spawning itself again and again (Java, Go) ---------------------
FORK_BOMB = {
    "c": "#include <unistd.h>\nint main(void){ for (;;) fork(); }\n",
    "java": (
        "public class Main {\n  public static void main(String[] a) throws Exception {\n"
        "    for (;;) {\n      try {\n"
        '        new ProcessBuilder("java", "-cp", ".", "Main").inheritIO().start();\n'
        "      } catch (Exception e) {\n      }\n    }\n  }\n}\n"
    ),
    "go": (
        'package main\n\nimport (\n\t"os"\n\t"os/exec"\n)\n\nfunc main() {\n\tfor {\n'
        "\t\texec.Command(os.Args[0]).Start()\n\t}\n}\n"
    ),
}

# -- threads beyond the limit: each starts threads that sleep until it can start no more ------
THREAD_BOMB = {
    "c": (
        "#include <pthread.h>\n#include <stdio.h>\n#include <unistd.h>\n"
        "static void *nap(void *x) { sleep(30); return x; }\n"
        "int main(void) {\n  int n = 0;\n  pthread_t t;\n"
        "  while (n < 100000 && pthread_create(&t, NULL, nap, NULL) == 0) n++;\n"
        '  printf("%d\\n", n);\n  return 0;\n}\n'
    ),
    "java": (
        "public class Main {\n  public static void main(String[] a) {\n    for (;;) {\n"
        "      new Thread(() -> {\n        try { Thread.sleep(30000); } catch (InterruptedException e) { }\n"
        "      }).start();\n    }\n  }\n}\n"
    ),
    # Goroutines that block in a system call each hold an OS thread of their own.
    "go": (
        'package main\n\nimport (\n\t"runtime"\n\t"syscall"\n)\n\nfunc main() {\n'
        "\tvar fds [2]int\n\tsyscall.Pipe(fds[:])\n\tfor i := 0; i < 100000; i++ {\n"
        "\t\tgo func() {\n\t\t\truntime.LockOSThread()\n\t\t\tb := make([]byte, 1)\n"
        "\t\t\tsyscall.Read(fds[0], b)\n\t\t}()\n\t}\n\tselect {}\n}\n"
    ),
}

# -- a shell: started as a new process it is refused; exec'd in place of the program (C, Go)
# it runs as the program did, and can start nothing either: its builtins run, `cat` does not --
IN_PLACE = "echo in-place; cat /etc/hostname && echo CAT-RAN; echo done"
SHELL = {
    "c": r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  int r = system("echo SYSTEM-RAN");
  printf("system %s\n", r == -1 || WEXITSTATUS(r) == 127 ? "refused" : "ran");
  fflush(stdout);
  execl("/bin/sh", "sh", "-c", "IN_PLACE", (char *)0);
  puts("exec failed");
  return 1;
}
""".replace("IN_PLACE", IN_PLACE),
    "java": r"""
public class Main {
  public static void main(String[] a) {
    try {
      Process p = new ProcessBuilder("/bin/sh", "-c", "echo SHELL-RAN").inheritIO().start();
      p.waitFor();
      System.out.println("shell ran");
    } catch (Exception e) {
      System.out.println("shell refused");
    }
    System.out.println("done");
  }
}
""",
    "go": r"""
package main

import (
	"fmt"
	"os/exec"
	"syscall"
)

func main() {
	if out, err := exec.Command("/bin/sh", "-c", "echo SHELL-RAN").Output(); err == nil {
		fmt.Print("shell ran: ", string(out))
	} else {
		fmt.Println("shell refused")
	}
	err := syscall.Exec("/bin/sh", []string{"sh", "-c", "IN_PLACE"}, nil)
	fmt.Println("exec failed", err)
}
""".replace("IN_PLACE", IN_PLACE),
    "javascript": r"""
const cp = require("child_process");
try {
  cp.execFileSync("/bin/sh", ["-c", "echo SHELL-RAN"], { stdio: "inherit" });
  console.log("shell ran");
} catch (e) {
  console.log("shell refused");
}
console.log("done");
""",
}
# What each prints before the shell (or in its place): the refusal of a new process.
SHELL_REFUSED = {
    "c": "system refused\n",
    "java": "shell refused\n",
    "go": "shell refused\n",
    "javascript": "shell refused\n",
}
