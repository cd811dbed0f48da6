"""Real containers for the deploy tests: podman, the images they run, and a Compose project.

No registry is assumed reachable: the base image is made from Debian's own packages
(debootstrap, then `podman import`), and every image the tests run is built on it:
deploy/Dockerfile's (also serving Redis: it carries redis-server) and a Prometheus from
Debian's package. The base and each build's layers stay in podman's storage, so a second
run only rebuilds what changed.

podman runs with runc, cgroupfs and explicit ulimits (containers.conf written here): crun
refuses hybrid cgroup hierarchies and podman's default limits can exceed what a VM lets a
container set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE_IMAGE = "localhost/acefarm-test-base:bookworm"
IMAGE = "localhost/acefarm:test"
PROMETHEUS_IMAGE = "localhost/acefarm-test-prometheus:bookworm"
MIRROR = "http://deb.debian.org/debian"
SOURCES = """\
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
PROMETHEUS_CONTAINERFILE = f"""\
FROM {BASE_IMAGE}
RUN apt-get update -qq \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \\
    && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["/usr/bin/prometheus"]
"""


def missing_tools() -> list[str]:
    """What the container tests need and this machine lacks (`make test-deploy` installs them)."""
    need = [t for t in ("podman", "runc", "debootstrap") if shutil.which(t) is None]
    if compose_command() is None:
        need.append("podman-compose")
    if os.geteuid() != 0:
        need.append("root")
    return need


def compose_command() -> list[str] | None:
    if importlib.util.find_spec("podman_compose") is not None:
        return [sys.executable, "-m", "podman_compose"]
    found = shutil.which("podman-compose")
    return [found] if found else None


class Podman:
    """podman with this machine's settings (a containers.conf of its own, via CONTAINERS_CONF)."""

    def __init__(self, workdir: pathlib.Path) -> None:
        conf = workdir / "containers.conf"
        # At most this process's hard limits, and 32768 (the VMs these tests run on refuse to
        # set 65536 processes in a container even under a hard limit of 96367).
        nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 32768)
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
        conf.write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
        )
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.logs = workdir

    def run(self, *args: str, check: bool = True, timeout: float = 600, **kw: Any) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout, **kw)
        if check and out.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args[:3])}... failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return out

    def image_exists(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0

    def build(self, tag: str, context: pathlib.Path, *args: str, timeout: float = 1500) -> float:
        """`podman build`, its output in a log file; returns the seconds it took."""
        log = self.logs / f"build-{tag.rsplit('/', 1)[-1].replace(':', '-')}.log"
        t0 = time.monotonic()
        with open(log, "w") as fh:
            proc = subprocess.run(
                ["podman", "build", "-t", tag, *args, str(context)],
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if proc.returncode != 0:
            raise RuntimeError(f"podman build {tag} failed; last lines of {log}:\n{log.read_text()[-4000:]}")
        return time.monotonic() - t0

    def ensure_base(self) -> None:
        """A minimal Debian bookworm image from Debian's packages (debootstrap), made once."""
        if self.image_exists(BASE_IMAGE):
            return
        with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="acefarm-base-") as tmp:
            rootfs = pathlib.Path(tmp) / "rootfs"
            subprocess.run(
                ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), MIRROR],
                check=True,
                capture_output=True,
                timeout=900,
            )
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
            (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(SOURCES)
            for d in ("var/lib/apt/lists", "var/cache/apt/archives"):
                for p in (rootfs / d).glob("*"):
                    if p.is_file():
                        p.unlink()
            tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
            self.run("import", "-", BASE_IMAGE, stdin=tar.stdout)
            tar.wait()

    def build_farm_image(self) -> float:
        """deploy/Dockerfile on the local base, as an operator builds it (a TLS-intercepting
        proxy's CA, where this machine trusts one, goes to pip as the pip-ca build secret)."""
        args = ["-f", str(DEPLOY / "Dockerfile"), "--build-arg", f"BASE={BASE_IMAGE}"]
        for ca in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
            if ca and os.path.isfile(ca):
                args += ["--secret", f"id=pip-ca,src={ca}"]
                break
        return self.build(IMAGE, ROOT, *args)

    def ensure_prometheus(self) -> None:
        if self.image_exists(PROMETHEUS_IMAGE):
            return
        with tempfile.TemporaryDirectory(prefix="acefarm-prom-") as tmp:
            (pathlib.Path(tmp) / "Containerfile").write_text(PROMETHEUS_CONTAINERFILE)
            self.build(PROMETHEUS_IMAGE, pathlib.Path(tmp))


class ComposeProject:
    """deploy/compose.yaml under a project name of its own, driven by podman-compose."""

    def __init__(self, podman: Podman, name: str, env: dict[str, str]) -> None:
        cmd = compose_command()
        assert cmd is not None
        self.podman = podman
        self.name = name
        self.cmd = [*cmd, "-p", name, "-f", str(DEPLOY / "compose.yaml")]
        self.env = {**podman.env, **env}

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([*self.cmd, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise RuntimeError(
                f"compose {' '.join(args)} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
            )
        return out

    def remove(self) -> None:
        """`down -v`, then whatever it left: podman-compose's down knows only one replica of a
        scaled service, so the others (and the pod, volumes and network they hold) stay."""
        self("down", "-v", "-t", "5", check=False)
        label = f"label=io.podman.compose.project={self.name}"
        self.podman.run("pod", "rm", "-f", f"pod_{self.name}", check=False)
        left = self.podman.run("ps", "-aq", "--filter", label, check=False).stdout.split()
        if left:
            self.podman.run("rm", "-f", "-t", "5", *left, check=False)
        volumes = self.podman.run("volume", "ls", "-q", "--filter", label, check=False).stdout.split()
        if volumes:
            self.podman.run("volume", "rm", "-f", *volumes, check=False)
        self.podman.run("network", "rm", "-f", f"{self.name}_default", check=False)

    def containers(self, service: str) -> list[str]:
        out = self.podman.run(
            "ps",
            "-a",
            "--filter",
            f"label=io.podman.compose.project={self.name}",
            "--filter",
            f"label=com.docker.compose.service={service}",
            "--format",
            "{{.Names}}",
        )
        return sorted(out.stdout.split())

    def logs(self) -> str:
        out = self.podman.run(
            "ps",
            "-a",
            "--filter",
            f"label=io.podman.compose.project={self.name}",
            "--format",
            "{{.Names}}",
            check=False,
        )
        text = []
        for name in out.stdout.split():
            logs = self.podman.run("logs", "--tail", "40", name, check=False)
            text.append(f"--- {name}\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        return "\n".join(text)


def prometheus_query(port: int, expr: str) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            data: dict[str, Any] = json.load(resp)
    except urllib.error.HTTPError as exc:  # a bad query is a 400 with a JSON body
        data = json.load(exc)
    return data


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # retried until the deadline
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
