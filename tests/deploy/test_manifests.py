"""deploy/'s files without containers: each parses, every `acefarm` command line in them is one the
CLI accepts, and the files agree with each other and with the code (ports, metric names, the
Celery queue, the sandbox's privileges). With containers (`make test-deploy`): test_image.py runs
the image, test_compose.py the Compose file, test_kube.py the Kubernetes Deployments; test_units.py
runs the systemd units' commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from broker.cluster import QUEUE

from .manifests import (
    DEPLOY,
    K8S,
    SANDBOX_CAPS,
    SYSTEMD,
    compose,
    compose_interpolate,
    environment_file,
    exported_metrics,
    k8s_expand,
    k8s_get,
    k8s_objects,
    kustomization,
    parse_acefarm,
    promql_metrics,
    unit,
    unit_argv,
)

ENV = {"REDIS_PASSWORD": "pw", "ACEFARM_TOKEN": "tok"}


def test_each_deploy_file_has_its_checks():
    """A file added to deploy/ needs tests of its own: list it here once it has them."""
    files = {str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file()}
    assert files == {
        "Dockerfile",
        "README.md",
        "compose.yaml",
        "prometheus.yml",
        "grafana/acefarm.json",
        "k8s/kustomization.yaml",
        "k8s/namespace.yaml",
        "k8s/secret.yaml",
        "k8s/redis.yaml",
        "k8s/server.yaml",
        "k8s/worker.yaml",
        "k8s/pdb.yaml",
        "k8s/networkpolicy.yaml",
        "k8s/keda.yaml",
        "systemd/acefarm-serve.service",
        "systemd/acefarm-worker@.service",
        "systemd/acefarm.env.example",
    }


# --- the image ---------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_builds_from_a_base_given_as_an_argument():
    steps = dockerfile()
    assert steps[0] == ("ARG", "BASE=debian:bookworm-slim")
    assert steps[1] == ("FROM", "${BASE}")
    assert [s for s in steps if s[0] == "FROM"] == [("FROM", "${BASE}")]  # one stage, one image


def test_dockerfile_installs_what_make_setup_installs():
    """The system packages and sandbox users through the Makefile's own targets (so the image
    cannot drift from `make setup`), and the project with the stubs `make setup` generates."""
    runs = " ".join(args for op, args in dockerfile() if op == "RUN")
    assert "make system-packages sandbox-user" in runs
    makefile = (DEPLOY.parent / "Makefile").read_text()
    for target in ("system-packages", "sandbox-user"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "pip install -q --no-deps --no-build-isolation -e ." in runs
    assert "python -m broker.protos" in runs


def test_dockerfile_copies_only_what_the_build_context_keeps():
    ignore = (DEPLOY.parent / ".dockerignore").read_text().split()
    kept = {line[1:] for line in ignore if line.startswith("!")}
    copied = set()
    for op, args in dockerfile():
        if op == "COPY":
            copied |= {a.rstrip("/") for a in args.split()[:-1]}
    assert copied and copied <= kept
    assert ignore[ignore.index("*") :]  # everything else is left out of the context


def test_image_commands_are_valid():
    steps = dict(dockerfile())
    assert json.loads(steps["ENTRYPOINT"]) == ["/usr/bin/tini", "--"]
    name, params = parse_acefarm(json.loads(steps["CMD"]))
    assert name == "serve" and params["host"] == "0.0.0.0"


# --- Compose -----------------------------------------------------------------------------------


def compose_command(service: str, env: dict[str, str] | None = None) -> list[str]:
    command = compose()["services"][service]["command"]
    return [compose_interpolate(str(word), env or ENV) for word in command]


def test_compose_requires_the_secrets():
    with pytest.raises(KeyError, match="REDIS_PASSWORD"):
        compose_command("worker", {"ACEFARM_TOKEN": "t"})
    text = (DEPLOY / "compose.yaml").read_text()
    assert "${ACEFARM_TOKEN:?" in text


def test_compose_commands_are_valid_and_agree():
    services = compose()["services"]
    assert set(services) == {"redis", "server", "worker", "prometheus"}
    _, server = parse_acefarm(compose_command("server"))
    _, worker = parse_acefarm(compose_command("worker"))
    assert server["broker_url"] == worker["broker_url"] == "redis://:pw@redis:6379/0"
    assert f"{server['port']}" in [p.split(":")[-1] for p in services["server"]["ports"]]
    assert worker["workers"] == 2  # WORKER_SLOTS' default
    # Prometheus scrapes the ports the commands open.
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["acefarm-server"]["static_configs"] == [{"targets": [f"server:{server['metrics_port']}"]}]
    (sd,) = jobs["acefarm-worker"]["dns_sd_configs"]
    assert sd["names"] == ["worker"] and sd["port"] == worker["metrics_port"] == 9465


def test_compose_redis_appends_to_a_volume_with_a_password():
    services, volumes = compose()["services"], compose()["volumes"]
    command = compose_command("redis")
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--requirepass") + 1] == "pw"
    assert command[command.index("--dir") + 1] == "/data"
    (volume,) = services["redis"]["volumes"]
    name, path = volume.split(":")
    assert path == "/data" and name in volumes


def test_compose_privileges():
    """Only the workers run programs: they get the sandbox's capabilities and no more; the
    server gets none and is not root."""
    services = compose()["services"]
    worker, server = services["worker"], services["server"]
    assert worker["cap_drop"] == ["ALL"] and set(worker["cap_add"]) == SANDBOX_CAPS
    assert "privileged" not in worker
    # Read-only roots; a worker's firejail needs a writable /run and a world-writable /tmp.
    assert worker["read_only"] is server["read_only"] is True
    assert set(worker["tmpfs"]) == {"/tmp", "/run"}
    assert server["cap_drop"] == ["ALL"] and "cap_add" not in server
    assert server["user"].split(":")[0] != "0" and "no-new-privileges" in server["security_opt"]


# --- Kubernetes --------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest():
    listed = kustomization()["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk
    kinds = {(o["kind"], o["metadata"]["name"]) for o in k8s_objects()}
    assert kinds == {
        ("Namespace", "acefarm"),
        ("Secret", "acefarm"),
        ("PersistentVolumeClaim", "redis-data"),
        ("Deployment", "redis"),
        ("Service", "redis"),
        ("Deployment", "acefarm-server"),
        ("Service", "acefarm-server"),
        ("Deployment", "acefarm-worker"),
        ("PodDisruptionBudget", "acefarm-server"),
        ("PodDisruptionBudget", "acefarm-worker"),
        ("NetworkPolicy", "acefarm-worker"),
        ("NetworkPolicy", "acefarm-server"),
        ("NetworkPolicy", "acefarm-redis"),
        ("ScaledObject", "acefarm-worker"),
    }


def deployments() -> list[dict]:
    return [o for o in k8s_objects() if o["kind"] == "Deployment"]


def pod_labels(deployment: str) -> dict[str, str]:
    labels: dict[str, str] = k8s_get("Deployment", deployment)["spec"]["template"]["metadata"]["labels"]
    return labels


def secret_env() -> dict[str, str]:
    data: dict[str, str] = k8s_get("Secret", "acefarm")["stringData"]
    return data


def container_env(container: dict) -> dict[str, str]:
    """The container's env, with secretKeyRefs read from the base's Secret."""
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "acefarm"
            env[var["name"]] = secret_env()[ref["key"]]
    return env


def test_deployments_select_their_pods_and_bound_their_resources():
    for dep in deployments():
        spec = dep["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        for container in spec["template"]["spec"]["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), dep["metadata"]["name"]
            assert "memory" in resources["limits"], dep["metadata"]["name"]


def test_k8s_commands_are_valid():
    seen = {}
    for dep in deployments():
        for container in dep["spec"]["template"]["spec"]["containers"]:
            if container["args"][0] != "acefarm":
                continue
            args = k8s_expand(container["args"], container_env(container))
            assert not any("$(" in a for a in args), args
            name, params = parse_acefarm(args)
            seen[name] = params
            ports = {p["containerPort"] for p in container["ports"]}
            assert params["metrics_port"] in ports
    assert set(seen) == {"serve", "worker"}
    assert seen["serve"]["broker_url"] == seen["worker"]["broker_url"]
    assert seen["serve"]["port"] == 50051 and seen["serve"]["host"] == "0.0.0.0"
    assert seen["worker"]["workers"] == 2  # one slot per requested CPU
    worker = k8s_get("Deployment", "acefarm-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["requests"]["cpu"] == str(seen["worker"]["workers"])


def test_the_secret_names_the_redis_service():
    url = urlsplit(secret_env()["ACEFARM_BROKER"])
    service = k8s_get("Service", "redis")
    assert url.hostname == service["metadata"]["name"]
    assert url.port == service["spec"]["ports"][0]["port"]
    assert url.password == secret_env()["REDIS_PASSWORD"]
    assert service["spec"]["selector"].items() <= pod_labels("redis").items()
    redis = k8s_get("Deployment", "redis")["spec"]["template"]["spec"]
    args = k8s_expand(redis["containers"][0]["args"], container_env(redis["containers"][0]))
    assert args[args.index("--requirepass") + 1] == url.password
    assert args[args.index("--appendonly") + 1] == "yes"
    (mount,) = redis["containers"][0]["volumeMounts"]
    assert mount["mountPath"] == args[args.index("--dir") + 1]
    assert redis["volumes"][0]["persistentVolumeClaim"]["claimName"] == "redis-data"


def test_server_probes_are_grpc_health_on_its_port():
    server = k8s_get("Deployment", "acefarm-server")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert server[probe]["grpc"] == {"port": 50051}, probe
    service = k8s_get("Service", "acefarm-server")
    assert service["spec"]["selector"].items() <= pod_labels("acefarm-server").items()
    assert {p["port"] for p in service["spec"]["ports"]} == {50051, 8080, 9464}


def test_only_workers_get_the_sandbox_privileges():
    for dep in deployments():
        for container in dep["spec"]["template"]["spec"]["containers"]:
            ctx = container["securityContext"]
            assert ctx["capabilities"]["drop"] == ["ALL"]
            assert not ctx.get("privileged")
            assert ctx.get("readOnlyRootFilesystem", False) is (dep["metadata"]["name"] != "redis")
            if dep["metadata"]["name"] == "acefarm-worker":
                assert set(ctx["capabilities"]["add"]) == SANDBOX_CAPS
                assert ctx["allowPrivilegeEscalation"] is True  # firejail is setuid root
                assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
                pod = dep["spec"]["template"]["spec"]
                memory = {v["name"] for v in pod["volumes"] if v["emptyDir"].get("medium") == "Memory"}
                mounts = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in memory}
                assert mounts == {"/tmp", "/run"}
            else:
                assert "add" not in ctx["capabilities"] and ctx["allowPrivilegeEscalation"] is False
    server_pod = k8s_get("Deployment", "acefarm-server")["spec"]["template"]["spec"]
    assert server_pod["securityContext"]["runAsNonRoot"] is True


def egress_peers(policy: dict) -> list[tuple[dict, list]]:
    return [(peer, rule.get("ports", [])) for rule in policy["spec"]["egress"] for peer in rule["to"]]


def test_worker_network_policy_lets_workers_reach_only_redis():
    policy = k8s_get("NetworkPolicy", "acefarm-worker")
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels("acefarm-worker").items()
    assert "Egress" in spec["policyTypes"]
    assert all(rule.get("to") for rule in spec["egress"])  # no rule without peers (= anywhere)
    redis, dns = [], []
    for peer, ports in egress_peers(policy):
        if "namespaceSelector" in peer:  # the cluster's DNS, to resolve Redis's name
            assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
            assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
            assert {p["port"] for p in ports} == {53}
            dns.append(peer)
        else:
            assert set(peer) == {"podSelector"}
            assert peer["podSelector"]["matchLabels"].items() <= pod_labels("redis").items()
            assert [(p["protocol"], p["port"]) for p in ports] == [("TCP", 6379)]
            redis.append(peer)
    assert redis and dns
    assert [p["port"] for rule in spec["ingress"] for p in rule["ports"]] == [9465]


def test_redis_accepts_only_the_farm():
    spec = k8s_get("NetworkPolicy", "acefarm-redis")["spec"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels("redis").items()
    (rule,) = spec["ingress"]
    allowed = [peer["podSelector"]["matchLabels"] for peer in rule["from"]]
    assert allowed == [pod_labels("acefarm-server"), pod_labels("acefarm-worker")]
    assert spec["egress"] == [] and "Egress" in spec["policyTypes"]


def test_keda_scales_workers_on_chunks_waiting_and_taken_and_jobs_held():
    scaled = k8s_get("ScaledObject", "acefarm-worker")["spec"]
    target = scaled["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "acefarm-worker")
    server_metrics, _ = exported_metrics()
    kinds = set()
    for trigger in scaled["triggers"]:
        kinds.add(trigger["type"])
        meta = trigger["metadata"]
        if trigger["type"] == "prometheus":
            query = meta["query"]
            assert promql_metrics(query) == {"acefarm_cluster_chunks", "acefarm_jobs_waiting"} <= server_metrics
            assert re.search(r'state=~"(waiting\|taken|taken\|waiting)"', query), query
            assert float(meta["threshold"]) > 0
        elif trigger["type"] == "redis":  # the Celery queue is a list; LLEN is all KEDA reads
            assert meta["listName"] == QUEUE
    assert kinds == {"prometheus"}
    assert scaled["minReplicaCount"] >= 1 and scaled["maxReplicaCount"] > scaled["minReplicaCount"]


def test_disruption_budgets_select_the_deployments():
    for name in ("acefarm-server", "acefarm-worker"):
        pdb = k8s_get("PodDisruptionBudget", name)["spec"]
        assert pdb["selector"]["matchLabels"].items() <= pod_labels(name).items()
    assert k8s_get("PodDisruptionBudget", "acefarm-server")["spec"]["minAvailable"] == 1
    assert k8s_get("PodDisruptionBudget", "acefarm-worker")["spec"]["maxUnavailable"] == 1


def test_worker_grace_period_covers_a_warm_shutdown():
    worker = k8s_get("Deployment", "acefarm-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 60
    assert compose()["services"]["worker"]["stop_grace_period"] == f"{worker['terminationGracePeriodSeconds']}s"


# --- systemd -----------------------------------------------------------------------------------

STUB = "import json, sys; print(json.dumps(sys.argv[1:]))"


def run_unit_command(name: str, instance: str, tmp_path) -> list[str]:
    """ExecStart rendered as systemd would, run through its own shell with the acefarm binary
    replaced by a stub that prints the arguments it got, with the example environment file."""
    stub = tmp_path / "acefarm"
    stub.write_text(f"#!{sys.executable}\n{STUB}\n")
    stub.chmod(0o755)
    env = environment_file(SYSTEMD / "acefarm.env.example")
    argv = [a.replace("/opt/acefarm/.venv/bin/acefarm", str(stub)) for a in unit_argv(name, instance, env)]
    out = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=True)
    return ["acefarm", *json.loads(out.stdout)]


@pytest.mark.parametrize(
    ("instance", "cpus", "port"), [("0,1", (0, 1), 9465), ("3", (3,), 9468), ("4,6,7", (4, 6, 7), 9469)]
)
def test_worker_unit_runs_one_slot_per_cpu_of_its_instance(instance, cpus, port, tmp_path):
    name, params = parse_acefarm(run_unit_command("acefarm-worker@.service", instance, tmp_path))
    assert name == "worker"
    assert params["cpus"] == cpus and params["workers"] == len(cpus) and params["metrics_port"] == port
    assert params["broker_url"] == environment_file(SYSTEMD / "acefarm.env.example")["ACEFARM_BROKER"]


def test_serve_unit_runs_a_cluster_server(tmp_path, monkeypatch):
    env = environment_file(SYSTEMD / "acefarm.env.example")
    argv = run_unit_command("acefarm-serve.service", "", tmp_path)
    assert "--token" not in argv  # from the environment file, not on a command line ps shows
    monkeypatch.setenv("ACEFARM_TOKEN", env["ACEFARM_TOKEN"])
    name, params = parse_acefarm(argv)
    assert name == "serve" and params["broker_url"] == env["ACEFARM_BROKER"]
    assert params["token"] == env["ACEFARM_TOKEN"] and params["host"] == "0.0.0.0"


def test_units_stop_with_sigterm_and_wait_for_a_warm_shutdown():
    serve, worker = unit("acefarm-serve.service"), unit("acefarm-worker@.service")
    assert serve["Service.KillSignal"] == worker["Service.KillSignal"] == ["SIGTERM"]
    assert int(worker["Service.TimeoutStopSec"][0]) >= 60
    assert serve["Service.DynamicUser"] == ["yes"] and serve["Service.NoNewPrivileges"] == ["yes"]
    assert "Service.NoNewPrivileges" not in worker  # firejail is setuid root
    for u in (serve, worker):
        assert u["Service.EnvironmentFile"] == ["/etc/acefarm/acefarm.env"]
        assert u["Install.WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    """systemd's own check, on copies whose acefarm path exists here (verify wants it executable)."""
    exe = shutil.which("true")
    names = []
    for src, dst in (
        ("acefarm-serve.service", "acefarm-serve.service"),
        ("acefarm-worker@.service", "acefarm-worker@.service"),
        ("acefarm-worker@.service", "acefarm-worker@0\\x2c1.service"),
    ):
        (tmp_path / dst).write_text((SYSTEMD / src).read_text().replace("/opt/acefarm/.venv/bin/acefarm", exe))
        names.append(str(tmp_path / dst))
    out = subprocess.run(
        ["systemd-analyze", "verify", *names],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "acefarm" in line]
    assert out.returncode == 0 and problems == [], out.stdout + out.stderr


# --- Grafana -----------------------------------------------------------------------------------


def test_dashboard_plots_every_metric_the_farm_exports():
    dashboard = json.loads((DEPLOY / "grafana" / "acefarm.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    used = set()
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= promql_metrics(target["expr"])
    server, worker = exported_metrics()
    assert used <= server | worker, used - (server | worker)
    # Every family is plotted (a histogram through its buckets).
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in server | worker}
    plotted = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    assert families - plotted == set()
    assert {"acefarm_cluster_chunks", "acefarm_failovers_total", "acefarm_cancellations_total"} <= used
