"""Reads deploy/ (the Containerfile, the kustomize trees, the monitoring
files) and checks it against what arbiterd really serves.

Every check returns a list of problems (empty when all is well), so a test
can run it on the real files and on a deliberately broken copy and see it
fail there: a check that cannot fail proves nothing.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from gftest import SOURCE_DIR

DEPLOY = SOURCE_DIR / "deploy"
K8S = DEPLOY / "kubernetes"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
DASHBOARD = K8S / "monitoring" / "greenfork-dashboard.json"
ADAPTER_VALUES = K8S / "monitoring" / "prometheus-adapter-values.yaml"
SCRAPE_CONFIG = K8S / "monitoring" / "prometheus-scrape.yaml"

# Labels Prometheus attaches to every target it scrapes: PromQL may group by
# these although arbiterd never prints them. `namespace` and `pod` must also
# come out of prometheus-scrape.yaml (check_scrape_config).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "service", "endpoint"}
# Grafana's built-in variables; the dashboard's own come from its templating.
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range"}
DEFAULT_GRACEFUL_TIMEOUT = 30  # arbiterd's --graceful-timeout default


# --- kustomize ---------------------------------------------------------------

def load_yaml_docs(path: Path) -> list:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def kustomization_problems(folder: Path) -> list[str]:
    """Files a kustomization names (resources, generator files) that do not exist."""
    k = load_yaml_docs(folder / "kustomization.yaml")[0]
    problems = []
    if k.get("kind") != "Kustomization":
        problems.append(f"{folder}/kustomization.yaml: kind is {k.get('kind')!r}")
    named = list(k.get("resources", []))
    for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        named += [f.split("=", 1)[-1] for f in gen.get("files", [])]
    for rel in named:
        if not (folder / rel).exists():
            problems.append(f"{folder.name}/kustomization.yaml names {rel}, which does not exist")
    return problems


def resources(folder: Path) -> dict:
    """{kind: object} of the resources a kustomization lists (one per kind here)."""
    k = load_yaml_docs(folder / "kustomization.yaml")[0]
    out = {}
    for rel in k.get("resources", []):
        for doc in load_yaml_docs(folder / rel):
            out[doc["kind"]] = doc
    return out


def container_of(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def container_ports(deployment: dict) -> dict:
    """{name: containerPort} of the Deployment's container."""
    return {p["name"]: p["containerPort"] for p in container_of(deployment).get("ports", [])}


def resolve_port(deployment: dict, port) -> int:
    """A probe's or Service's port (a name or a number) as a containerPort."""
    return container_ports(deployment)[port] if isinstance(port, str) else int(port)


def flag_value(args: list, flag: str):
    """The value of `--flag VALUE` or `--flag=VALUE` in an argv, else None."""
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def prestop_seconds(container: dict) -> float:
    pre = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in pre:
        return float(pre["sleep"]["seconds"])
    cmd = pre.get("exec", {}).get("command", [])
    if len(cmd) == 2 and Path(cmd[0]).name == "sleep":
        return float(cmd[1])
    return 0.0


def grace_problems(deployment: dict) -> list[str]:
    """terminationGracePeriodSeconds must outlast preStop + arbiterd's drain."""
    c = container_of(deployment)
    graceful = float(flag_value(c.get("args", []), "--graceful-timeout") or DEFAULT_GRACEFUL_TIMEOUT)
    grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    pre = prestop_seconds(c)
    problems = []
    if pre <= 0:
        problems.append("no preStop pause: endpoints may still route to a pod that stopped accepting")
    if not grace > graceful + pre:
        problems.append(f"terminationGracePeriodSeconds {grace} is not above --graceful-timeout "
                        f"{graceful} + preStop {pre}")
    return problems


def selector_matches(selector: dict, labels: dict) -> bool:
    wanted = selector.get("matchLabels", selector)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def wiring_problems(objs: dict, monitoring: dict, adapter: dict) -> list[str]:
    """Selectors, port names and metric names that tie the objects together."""
    problems = []
    dep = objs["Deployment"]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    ports = container_ports(dep)
    if not selector_matches(dep["spec"]["selector"], pod_labels):
        problems.append("the Deployment's selector does not match its pod labels")
    svc = objs["Service"]
    if not selector_matches(svc["spec"]["selector"], pod_labels):
        problems.append("the Service's selector does not match the pods")
    for p in svc["spec"]["ports"]:
        tp = p["targetPort"]
        if (isinstance(tp, str) and tp not in ports) or (isinstance(tp, int) and tp not in ports.values()):
            problems.append(f"Service port {p['name']} targets {tp!r}, not a container port")
    if not selector_matches(objs["PodDisruptionBudget"]["spec"]["selector"], pod_labels):
        problems.append("the PodDisruptionBudget's selector does not match the pods")
    hpa = objs["HorizontalPodAutoscaler"]["spec"]
    if hpa["scaleTargetRef"]["name"] != dep["metadata"]["name"]:
        problems.append("the HPA scales another Deployment")
    served = {r["name"]["as"] for r in adapter["rules"]["custom"]}
    for m in hpa["metrics"]:
        if m["type"] == "Pods" and m["pods"]["metric"]["name"] not in served:
            problems.append(f"the HPA uses {m['pods']['metric']['name']}, which prometheus-adapter does not serve")
    sm = monitoring["ServiceMonitor"]["spec"]
    svc_ports = {p["name"] for p in svc["spec"]["ports"]}
    if not selector_matches(sm["selector"], svc["metadata"].get("labels", {})):
        problems.append("the ServiceMonitor's selector does not match the Service")
    for ep in sm["endpoints"]:
        if ep["port"] not in svc_ports:
            problems.append(f"the ServiceMonitor scrapes port {ep['port']!r}, not a Service port")
        elif resolve_port(dep, next(p["targetPort"] for p in svc["spec"]["ports"] if p["name"] == ep["port"])) \
                != metrics_port(dep):
            problems.append("the ServiceMonitor's port is not arbiterd's --metrics-bind port")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    if int(ann.get("prometheus.io/port", -1)) != metrics_port(dep):
        problems.append("the prometheus.io/port annotation is not arbiterd's --metrics-bind port")
    return problems


def metrics_port(deployment: dict) -> int:
    return port_of(flag_value(container_of(deployment).get("args", []), "--metrics-bind") or ":0")


def scrape_config_problems(scrape: dict) -> list[str]:
    job = scrape["scrape_configs"][0]
    made = {r.get("target_label") for r in job.get("relabel_configs", [])}
    return [f"prometheus-scrape.yaml does not set the {label!r} label the adapter and dashboard use"
            for label in ("namespace", "pod") if label not in made]


# --- PromQL ------------------------------------------------------------------

def promql_names(query: str) -> set[str]:
    return set(re.findall(r"\bgreenfork_[a-zA-Z0-9_:]+", query))


def promql_labels(query: str) -> set[str]:
    """Label names a query groups by or matches on (adapter templates skipped)."""
    labels = set()
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", query):
        labels |= {g.strip() for g in group.split(",") if g.strip() and "<<" not in g}
    for matchers in re.findall(r"\{([^}]*)\}", query):
        labels |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    return labels


def dashboard_queries(dashboard: dict) -> list[str]:
    out = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            out.append(v["query"]["query"] if isinstance(v["query"], dict) else v["query"])
    return out


def adapter_queries(adapter: dict) -> list[str]:
    """Each rule's seriesQuery, and its metricsQuery on the series it finds."""
    out = []
    for r in adapter["rules"]["custom"]:
        series = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", r["seriesQuery"])
        out += [r["seriesQuery"], r["metricsQuery"].replace("<<.Series>>", series.group(1) if series else "")]
    return out


def exposition(text: str) -> tuple[set[str], set[str]]:
    """(sample names, label names) of a Prometheus text exposition."""
    names, labels = set(), set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        if m:
            names.add(m.group(1))
            labels |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", m.group(3) or ""))
    return names, labels


def promql_problems(queries: list[str], names: set[str], labels: set[str], where: str) -> list[str]:
    problems = []
    for q in queries:
        used = promql_names(q)
        if not used:
            problems.append(f"{where}: {q!r} uses no greenfork metric")
        for n in sorted(used - names):
            problems.append(f"{where}: {q!r} uses {n}, which arbiterd's /metrics does not have")
        for label in sorted(promql_labels(q) - labels - TARGET_LABELS):
            problems.append(f"{where}: {q!r} uses label {label!r}, which no greenfork metric has")
    return problems


def dashboard_problems(dashboard: dict) -> list[str]:
    """The parts of Grafana's dashboard schema Grafana refuses or breaks on."""
    problems = []
    for key, kind in (("uid", str), ("title", str), ("schemaVersion", int), ("panels", list),
                      ("templating", dict)):
        if not isinstance(dashboard.get(key), kind):
            problems.append(f"dashboard: {key} missing or not a {kind.__name__}")
    if problems:
        return problems
    variables = {v["name"] for v in dashboard["templating"]["list"]} | GRAFANA_BUILTINS
    ids = [p.get("id") for p in dashboard["panels"]]
    if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
        problems.append("dashboard: panel ids missing or not unique")
    for p in dashboard["panels"]:
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
            problems.append(f"dashboard: panel {p.get('title')!r} has a bad gridPos {g}")
        refs = [t.get("refId") for t in p.get("targets", [])]
        if not refs or len(set(refs)) != len(refs):
            problems.append(f"dashboard: panel {p.get('title')!r} has no targets or repeats a refId")
        for t in p.get("targets", []):
            for var in re.findall(r"\$\{?([a-zA-Z_][a-zA-Z0-9_]*)", t.get("expr", "")):
                if var not in variables:
                    problems.append(f"dashboard: panel {p.get('title')!r} uses undefined ${var}")
    return problems


def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


# --- Containerfile -----------------------------------------------------------

def containerfile_stages(text: str) -> dict:
    """{stage name: [(INSTRUCTION, arguments)]}, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages, current = {}, None
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        instr, rest = instr.upper(), re.sub(r"\s+", " ", rest).strip()
        if instr == "FROM":
            m = re.search(r"\bAS\s+(\S+)$", rest, re.I)
            current = m.group(1) if m else f"stage{len(stages)}"
            stages[current] = []
        if current is not None:
            stages[current].append((instr, rest))
    return stages


def exec_form(arg: str) -> list:
    """CMD/ENTRYPOINT in JSON form (the shell form would put sh in front of PID 1)."""
    value = json.loads(arg)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arg
    return value


def apt_packages(run_args: str) -> list[str]:
    """The packages of the `apt-get install` in a RUN line."""
    for part in run_args.split("&&"):
        words = shlex.split(part)
        if "apt-get" in words and "install" in words:
            return [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return []
