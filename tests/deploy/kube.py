"""A small kubelet for the deploy tests: deploy/k8s's Deployments run as podman containers, each
container spec translated field by field (what podman's own `kube play` does not do here: its
version on these machines neither expands $(VAR) in args nor reads Secrets' stringData).

Translated: image (replaced by the image under test), args with $(VAR) from env and
secretKeyRef, replicas, securityContext (capabilities, runAsUser/Group, readOnlyRootFilesystem,
allowPrivilegeEscalation, privileged), resource limits, memory emptyDirs (tmpfs), PVCs (named
volumes), and Services (each Deployment a Service selects answers to the Service's name on a
network of its own, with DNS). Not translated: probes (the test runs the gRPC health check
itself), NetworkPolicies, PDBs and the ScaledObject (no API server here to enforce them).
"""

from __future__ import annotations

import re
from typing import Any

from .containers import Podman
from .manifests import k8s_objects


def _selected(service: dict[str, Any], deployment: dict[str, Any]) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return bool(service["spec"]["selector"].items() <= labels.items())


def _quantity_bytes(q: str) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", q)
    assert m, q
    return int(m.group(1)) * units.get(m.group(2) or "", 1)


def _cpus(q: str) -> str:
    return str(int(q[:-1]) / 1000) if q.endswith("m") else q


class Cluster:
    """The base's Deployments as containers on one podman network, named <prefix>-<deployment>-<n>."""

    def __init__(self, podman: Podman, prefix: str, image: str, secret: dict[str, str]) -> None:
        self.podman, self.prefix, self.image, self.secret = podman, prefix, image, secret
        self.network = f"{prefix}-net"
        self.objects = k8s_objects()
        self.names: dict[str, list[str]] = {}

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        env = {}
        for var in container.get("env", []):
            if "value" in var:
                env[var["name"]] = var["value"]
            else:
                env[var["name"]] = self.secret[var["valueFrom"]["secretKeyRef"]["key"]]
        return env

    def run_args(self, dep: dict[str, Any], replica: int, publish: dict[int, int]) -> list[str]:
        name = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = self.env(container)
        args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container.get("args", [])]
        flags = ["-d", "--name", f"{self.prefix}-{name}-{replica}", "--network", self.network]
        for service in self.objects:
            if service["kind"] == "Service" and _selected(service, dep):
                flags += ["--network-alias", service["metadata"]["name"]]
        for key, value in env.items():
            flags += ["-e", f"{key}={value}"]
        ctx = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
        if "runAsUser" in ctx:
            flags += ["--user", f"{ctx['runAsUser']}:{ctx.get('runAsGroup', ctx['runAsUser'])}"]
        caps = ctx.get("capabilities", {})
        flags += [f"--cap-drop={c}" for c in caps.get("drop", [])]
        flags += [f"--cap-add={c}" for c in caps.get("add", [])]
        if ctx.get("privileged"):
            flags.append("--privileged")
        if ctx.get("allowPrivilegeEscalation") is False:
            flags += ["--security-opt", "no-new-privileges"]
        if ctx.get("readOnlyRootFilesystem"):
            flags += ["--read-only", "--read-only-tmpfs=false"]
        limits = container.get("resources", {}).get("limits", {})
        if "memory" in limits:
            flags += ["--memory", str(_quantity_bytes(limits["memory"]))]
        if "cpu" in limits:
            flags += ["--cpus", _cpus(limits["cpu"])]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for mount in container.get("volumeMounts", []):
            vol = volumes[mount["name"]]
            if "emptyDir" in vol:
                size = vol["emptyDir"].get("sizeLimit")
                flags += ["--tmpfs", f"{mount['mountPath']}:mode=1777" + (f",size={size[:-1].lower()}" if size else "")]
            else:
                claim = vol["persistentVolumeClaim"]["claimName"]
                flags += ["-v", f"{self.prefix}-{claim}:{mount['mountPath']}:U"]
        for port in container.get("ports", []):
            if port["containerPort"] in publish:
                flags += ["-p", f"127.0.0.1:{publish[port['containerPort']]}:{port['containerPort']}"]
        return ["run", *flags, self.image, *args]

    def apply(self, replicas: dict[str, int], publish: dict[str, dict[int, int]]) -> None:
        self.podman.run("network", "create", self.network)
        for dep in self.objects:
            if dep["kind"] != "Deployment":
                continue
            name = dep["metadata"]["name"]
            n = replicas.get(name, dep["spec"].get("replicas", 1))
            self.names[name] = []
            for i in range(n):
                self.podman.run(*self.run_args(dep, i, publish.get(name, {})))
                self.names[name].append(f"{self.prefix}-{name}-{i}")

    def logs(self) -> str:
        out = []
        for names in self.names.values():
            for name in names:
                ran = self.podman.run("logs", "--tail", "30", name, check=False)
                out.append(f"--- {name}\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}")
        return "\n".join(out)

    def delete(self) -> None:
        every = [n for names in self.names.values() for n in names]
        if every:
            self.podman.run("rm", "-f", "-t", "5", *every, check=False)
        volumes = self.podman.run("volume", "ls", "-q", "--filter", f"name={self.prefix}-", check=False).stdout.split()
        if volumes:
            self.podman.run("volume", "rm", "-f", *volumes, check=False)
        self.podman.run("network", "rm", "-f", self.network, check=False)
