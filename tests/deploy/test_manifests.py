"""deploy/kubernetes without a cluster: the YAML parses, the kustomizations
name files that exist, the objects point at each other, and the
Deployment's container arguments, started for real, serve the probes and
the metrics the dashboard and prometheus-adapter query. Each check also
runs on a broken copy of a manifest and must fail there.
"""

from __future__ import annotations

import copy
import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from deploy_support import (ADAPTER_VALUES, K8S, SCRAPE_CONFIG, adapter_queries, container_of,
                            dashboard_problems, dashboard_queries, grace_problems,
                            kustomization_problems, load_dashboard, load_yaml_docs, metrics_port,
                            prestop_seconds, promql_names, promql_problems, resources,
                            scrape_config_problems, wiring_problems)
from gftest import Spawned, binary, free_port, pid_alive, wait_until
from live_deployment import from_deployment, probe_problems

BASE = K8S / "base"
MONITORING = K8S / "monitoring"


@pytest.fixture(scope="module")
def objs():
    return resources(BASE)


@pytest.fixture(scope="module")
def adapter():
    return load_yaml_docs(ADAPTER_VALUES)[0]


@pytest.fixture(scope="module")
def live(objs):
    """arbiterd as the Deployment starts it, with a READY worker."""
    with from_deployment(objs["Deployment"]) as arb:
        arb.wait_workers_ready(metrics_port(objs["Deployment"]))
        yield arb


@pytest.fixture(scope="module")
def scraped(objs, live):
    """(names, labels) of /metrics where the pod annotations say Prometheus scrapes."""
    ann = objs["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    return live.scrape(int(ann["prometheus.io/port"]), ann.get("prometheus.io/path", "/metrics"))


def test_every_yaml_and_json_file_parses():
    files = sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml"))
    assert len(files) >= 8, files
    for f in files:
        assert load_yaml_docs(f), f"{f} is empty"
    for f in K8S.rglob("*.json"):
        json.loads(f.read_text())


def test_kustomizations_name_files_that_exist(tmp_path):
    for folder in (BASE, MONITORING):
        assert kustomization_problems(folder) == []
    kinds = set(resources(BASE))
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    broken = tmp_path / "base"
    shutil.copytree(BASE, broken)
    k = yaml.safe_load((broken / "kustomization.yaml").read_text())
    k["resources"].append("configmap.yaml")
    (broken / "kustomization.yaml").write_text(yaml.safe_dump(k))
    assert kustomization_problems(broken) != []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed (optional)")
def test_kubectl_kustomize_renders_both_trees():
    for folder in (BASE, MONITORING):
        out = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        assert list(yaml.safe_load_all(out.stdout))


def test_objects_are_wired_together(objs, adapter):
    monitoring = resources(MONITORING)
    assert wiring_problems(objs, monitoring, adapter) == []
    assert scrape_config_problems(load_yaml_docs(SCRAPE_CONFIG)[0]) == []
    hpa = copy.deepcopy(objs)
    hpa["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["pods"]["metric"]["name"] = "greenfork_inflight"
    assert wiring_problems(hpa, monitoring, adapter) != []
    svc = copy.deepcopy(objs)
    svc["Service"]["spec"]["ports"][0]["targetPort"] = "web"
    assert wiring_problems(svc, monitoring, adapter) != []
    ann = copy.deepcopy(objs)
    ann["Deployment"]["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "8000"
    assert wiring_problems(ann, monitoring, adapter) != []


def test_grace_period_outlasts_prestop_and_graceful_timeout(objs):
    dep = objs["Deployment"]
    assert grace_problems(dep) == []
    short = copy.deepcopy(dep)
    short["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30
    assert grace_problems(short) != []
    longer = copy.deepcopy(dep)
    args = container_of(longer)["args"]
    args[args.index("--graceful-timeout") + 1] = "60"
    assert grace_problems(longer) != []
    no_pause = copy.deepcopy(dep)
    del container_of(no_pause)["lifecycle"]
    assert grace_problems(no_pause) != []


def test_security_context_and_writable_volumes(objs, live):
    """Non-root, read-only root fs, and everything arbiterd and gworker
    write lands on the emptyDirs: the control socket, the notify socket's
    folder, request body spool files ($TMPDIR)."""
    dep = objs["Deployment"]
    pod, c = dep["spec"]["template"]["spec"], container_of(dep)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    control = live.map(c["args"][c["args"].index("--control-socket") + 1])
    assert live.is_socket(control) and live.on_volume(control), control
    notify = live.worker_env("NOTIFY_SOCKET")
    assert notify and all(live.is_socket(n) and live.on_volume(n) for n in notify), notify
    assert live.on_volume(live.env["TMPDIR"])
    # `kubectl exec deploy/greenfork -- gctl status` finds the socket from
    # $XDG_RUNTIME_DIR alone.
    out = subprocess.run([binary("gctl"), "--json", "status"], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/bin:/bin", **live.env})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pools"]


def test_probes_answer_as_the_manifest_expects(objs, live):
    dep = objs["Deployment"]
    assert wait_until(lambda: probe_problems(dep, live) == [], timeout=30,
                      message=f"probes: {probe_problems(dep, live)}")
    wrong_path = copy.deepcopy(dep)
    container_of(wrong_path)["readinessProbe"]["httpGet"]["path"] = "/ready"
    assert probe_problems(wrong_path, live) != []
    # The app answers 200 on every path: a probe on it would always pass.
    wrong_port = copy.deepcopy(dep)
    container_of(wrong_port)["livenessProbe"]["httpGet"]["port"] = "http"
    assert probe_problems(wrong_port, live) != []


def test_app_port_serves_the_app(objs, live):
    status, body = live.get(objs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
                            ["ports"][0]["containerPort"], "/")
    assert (status, body) == (200, b"Hello, World!\n")


def test_dashboard_is_a_grafana_dashboard():
    dash = load_dashboard()
    assert dashboard_problems(dash) == []
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for word in ("status class", "p50", "p99", "in flight", "workers by state", "restarts", "memory"):
        assert word in titles, word
    broken = copy.deepcopy(dash)
    broken["panels"][1]["id"] = broken["panels"][0]["id"]
    broken["panels"][2]["targets"][0]["expr"] += ' + 0 * up{job="$undefined_var"}'
    assert len(dashboard_problems(broken)) == 2


def test_dashboard_and_adapter_query_metrics_arbiterd_serves(scraped, adapter):
    names, labels = scraped
    dash_q, adapter_q = dashboard_queries(load_dashboard()), adapter_queries(adapter)
    assert promql_problems(dash_q, names, labels, "dashboard") == []
    assert promql_problems(adapter_q, names, labels, "prometheus-adapter") == []
    used = set().union(*(promql_names(q) for q in dash_q))
    assert {"greenfork_requests_total", "greenfork_request_duration_seconds_bucket",
            "greenfork_requests_in_flight", "greenfork_workers",
            "greenfork_worker_restarts_total", "greenfork_worker_resident_memory_bytes"} <= used
    renamed = [q.replace("greenfork_requests_in_flight", "greenfork_requests_inflight") for q in dash_q]
    assert promql_problems(renamed, names, labels, "dashboard") != []
    relabelled = [q.replace("by (reason)", "by (cause)") for q in dash_q]
    assert promql_problems(relabelled, names, labels, "dashboard") != []
    suffixed = [q.replace("_bucket", "_buckets") for q in adapter_q + dash_q]
    assert promql_problems(suffixed, names, labels, "dashboard") != []


def _as_rules_file(queries: list[str], path) -> None:
    """The queries as recording rules, Grafana and adapter templates filled in."""
    def fill(q: str) -> str:
        q = q.replace("$__rate_interval", "1m").replace("$namespace", "default").replace("$pool", ".*")
        return q.replace("<<.LabelMatchers>>", 'namespace="default"').replace("<<.GroupBy>>", "pod")
    rules = [{"record": f"greenfork:check_{i}", "expr": fill(q)} for i, q in enumerate(queries)]
    path.write_text(yaml.safe_dump({"groups": [{"name": "check", "rules": rules}]}))


@pytest.mark.parametrize("broken", [False, True])
def test_queries_are_valid_promql(tmp_path, adapter, broken):
    """promtool (Debian's prometheus package) parses every query."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool (package prometheus) is needed"
    queries = [q for q in dashboard_queries(load_dashboard()) if not q.startswith("label_values(")]
    queries += adapter_queries(adapter)
    if broken:
        queries.append("sum by (pod (greenfork_requests_in_flight)")
    _as_rules_file(queries, tmp_path / "rules.yaml")
    out = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yaml")],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode != 0) == broken, out.stdout + out.stderr


def _promql(port: int, query: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as r:
        answer = json.load(r)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_queries_return_series_from_a_real_prometheus(objs, live, adapter, tmp_path):
    """Prometheus scrapes arbiterd where the pod annotations say, with the
    labels the Kubernetes relabelling adds; every dashboard query and every
    adapter query then finds series (the label matchers fit), and the
    adapter's come out per pod as the HPA needs."""
    prometheus = shutil.which("prometheus")
    assert prometheus, "prometheus (Debian package prometheus) is needed"
    ann = objs["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    target = f"127.0.0.1:{live.ports[int(ann['prometheus.io/port'])]}"
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": "greenfork", "metrics_path": ann.get("prometheus.io/path", "/metrics"),
                            "static_configs": [{"targets": [target],
                                                "labels": {"namespace": "default", "pod": "greenfork-0"}}]}]}))
    port = free_port()
    argv = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    app_port = container_of(objs["Deployment"])["ports"][0]["containerPort"]
    for _ in range(5):
        assert live.get(app_port, "/")[0] == 200
    dash = [q for q in dashboard_queries(load_dashboard()) if not q.startswith("label_values(")]
    dash = [q.replace("$__rate_interval", "10s").replace("$namespace", "default").replace("$pool", ".*")
            for q in dash]
    fill = {"<<.LabelMatchers>>": 'namespace="default",pod=~"greenfork-0"', "<<.GroupBy>>": "pod"}
    adapter_q = adapter_queries(adapter)[1::2]
    for k, v in fill.items():
        adapter_q = [q.replace(k, v) for q in adapter_q]
    with Spawned(argv, logdir=tmp_path / "logs") as prom:
        def up():
            if prom.poll() is not None:
                raise AssertionError(f"prometheus exited\n{prom.output()}")
            return [s for s in _promql(port, 'up{job="greenfork"}') if s["value"][1] == "1"]
        wait_until(up, timeout=60, message="Prometheus to scrape arbiterd")
        for q in dash:
            wait_until(lambda: _promql(port, q), timeout=30, message=f"series for {q}")
        for q in adapter_q:
            result = wait_until(lambda: _promql(port, q), timeout=30, message=f"series for {q}")
            assert [s["metric"].get("pod") for s in result] == ["greenfork-0"], result
        broken = dash[0].replace('namespace="default"', 'namespace="defualt"')
        assert _promql(port, broken) == []


def test_term_drains_and_exits_inside_the_grace_period(objs):
    """What the kubelet does after preStop: TERM to PID 1. arbiterd must be
    gone, with status 0 (not a crash), before the grace period minus the
    preStop pause runs out; its workers with it."""
    dep = objs["Deployment"]
    grace = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    budget = grace - prestop_seconds(container_of(dep))
    with from_deployment(dep) as arb:
        arb.wait_workers_ready(metrics_port(dep))
        workers = arb.spawned.remember_descendants()
        assert workers
        started = time.monotonic()
        arb.spawned.signal(signal.SIGTERM)
        assert arb.spawned.wait(timeout=budget) == 0, arb.spawned.output()
        elapsed = time.monotonic() - started
        assert not [p for p in workers if pid_alive(p)]
    assert elapsed < budget
