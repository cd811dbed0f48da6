"""Reading deploy/'s files the way their tools do, for the tests: Compose and Kubernetes YAML,
systemd units (their ExecStart rendered by systemd's rules), and `acefarm` command lines checked
by the CLI's own parser."""

from __future__ import annotations

import pathlib
import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

import click
import yaml
from prometheus_client.core import Metric

from broker.dispatcher import FarmStatus
from broker.metrics import Metrics, WorkerMetrics
from broker.registry import WorkerInfo
from trainer.cli import main as acefarm_cli

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"

# What firejail needs to build a slot's sandbox in a container, measured (README, "Operating the farm"):
# every file that grants a worker privileges grants exactly these.
SANDBOX_CAPS = {"SYS_ADMIN", "NET_ADMIN", "MKNOD", "SETUID", "SETGID", "SETPCAP", "CHOWN", "DAC_OVERRIDE", "FOWNER"}


def parse_acefarm(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """The subcommand and its parameters, as `acefarm` parses `argv` (its first word `acefarm`
    or a path to it). Unknown flags, bad values and missing required ones raise click's errors."""
    assert argv[0] == "acefarm" or argv[0].endswith("/acefarm"), argv
    name = argv[1]
    command = acefarm_cli.commands[name]
    with command.make_context(name, list(argv[2:])) as ctx:
        return name, ctx.params


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


_COMPOSE_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def compose_interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}; a required one missing raises."""

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == "-":
            return arg
        if op == "?":
            raise KeyError(f"{name}: {arg}")
        return ""

    return _COMPOSE_VAR.sub(sub, text.replace("$$", "\0")).replace("\0", "$")


def k8s_objects() -> list[dict[str, Any]]:
    """Every object of the kustomize base, in the order kustomization.yaml lists the files."""
    objects = []
    for name in kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                doc["_file"] = name
                objects.append(doc)
    return objects


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


def k8s_get(kind: str, name: str) -> dict[str, Any]:
    (obj,) = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def k8s_expand(args: list[str], env: Mapping[str, str]) -> list[str]:
    """Kubernetes' $(VAR) in args: from the container's env (a missing one stays as written)."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a) for a in args]


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit as {"Section.Key": [values...]} (keys may repeat)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


def unit_argv(name: str, instance: str = "", env: Mapping[str, str] | None = None, host: str = "host") -> list[str]:
    """ExecStart as systemd runs it: specifiers (%I the unescaped instance, %i, %H, %%), then
    $$ and ${VAR} (from `env`), then split on whitespace outside quotes."""
    (line,) = unit(name)["Service.ExecStart"]
    escaped = instance.replace(",", "\\x2c")
    specifiers = {"I": instance, "i": escaped, "H": host, "%": "%"}
    line = re.sub(r"%(.)", lambda m: specifiers[m.group(1)], line)
    env = env or {}
    line = re.sub(r"\$\$|\$\{(\w+)\}", lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), ""), line)
    return shlex.split(line)


def environment_file(path: pathlib.Path) -> dict[str, str]:
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def _families(metrics: Iterator[Metric]) -> dict[str, str]:
    return {m.name: m.type for m in metrics}


def exported_metrics() -> tuple[set[str], set[str]]:
    """The series names a server and a worker export (counters as <name>_total, histograms as
    <name>_bucket/_sum/_count), read from broker/metrics.py's own registries."""
    server = Metrics()
    server.watch(lambda: FarmStatus(workers=1, slots=2, busy=0))
    worker = WorkerMetrics(lambda: WorkerInfo(name="w", slots=2, busy=0, runtime="r"), dict, dict)

    def names(families: dict[str, str]) -> set[str]:
        out = set()
        for name, kind in families.items():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(kind, [""])
            out |= {name + s for s in suffixes}
        return out

    return names(_families(server.registry.collect())), names(_families(worker.registry.collect()))


def promql_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\bacefarm_[a-z_]+\b", expr))


def click_error(exc: BaseException) -> bool:
    return isinstance(exc, click.ClickException)
