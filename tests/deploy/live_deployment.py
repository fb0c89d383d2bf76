"""arbiterd started as the Deployment (or the image's CMD) would start it,
on this machine: container ports become free loopback ports, emptyDir
mounts become fresh folders, paths the Containerfile COPYs into the image
become the repository's folders. Anything else absolute in the arguments is
an error: in the pod it would be on the read-only root filesystem.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from deploy_support import (CONTAINERFILE, container_of, container_ports, containerfile_stages,
                            exposition, flag_value)
from gftest import SOURCE_DIR, Spawned, binary, free_port, wait_until, worker_pids


def image_copies() -> dict:
    """{path in the image: path in the repository} of the runtime stage's COPYs."""
    out = {}
    for instr, rest in containerfile_stages(CONTAINERFILE.read_text())["runtime"]:
        words = rest.split()
        if instr == "COPY" and not any(w.startswith("--from") for w in words):
            for src in words[:-1]:
                out[words[-1].rstrip("/")] = SOURCE_DIR / src
    return out


def empty_dirs(deployment: dict) -> dict:
    """{mountPath: volume name} of the container's emptyDir mounts."""
    spec = deployment["spec"]["template"]["spec"]
    empty = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    return {m["mountPath"]: m["name"] for m in container_of(deployment).get("volumeMounts", [])
            if m["name"] in empty}


class LiveArbiter:
    """argv/env as in the manifest, mapped; use as a context manager."""

    def __init__(self, argv: list, env: dict, ports: list, mounts: dict):
        self.tmp = Path(tempfile.mkdtemp(prefix="gfd-", dir="/tmp"))  # short: unix socket paths
        self.ports = {p: free_port() for p in ports}
        self.mounts = {}  # path in the pod -> folder here (emptyDirs)
        for mount, name in mounts.items():
            (self.tmp / name).mkdir(mode=0o700)
            self.mounts[mount] = self.tmp / name
        self.paths = {**{k: Path(v) for k, v in image_copies().items()}, **self.mounts}
        self.unmapped: list[str] = []
        self.argv = [self.map(a) for a in argv]
        self.argv[0] = binary(Path(argv[0]).name)  # the image's /usr/local/bin/arbiterd
        self.env = {k: self.map(v) for k, v in env.items()}
        self.spawned = Spawned(self.argv, extra_env=self.env, logdir=self.tmp / "logs")

    def map(self, value: str) -> str:
        m = re.fullmatch(r"(0\.0\.0\.0|\[::\]|\*|):(\d+)", value)
        if m and int(m.group(2)) in self.ports:
            return f"127.0.0.1:{self.ports[int(m.group(2))]}"
        if value.startswith("/"):
            for prefix in sorted(self.paths, key=len, reverse=True):
                if value == prefix or value.startswith(prefix + "/"):
                    return str(self.paths[prefix]) + value[len(prefix):]
            if not value.startswith("/usr/local/bin/"):
                self.unmapped.append(value)
        return value

    def __enter__(self) -> "LiveArbiter":
        if self.unmapped:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise AssertionError(f"paths neither in the image nor on a volume: {self.unmapped}")
        self.spawned.start()
        return self

    def __exit__(self, *exc) -> None:
        self.spawned.__exit__(*exc)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self, container_port: int, path: str):
        """(status, body) from a container port, or raises OSError."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ports[container_port], timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def wait_workers_ready(self, metrics_port: int, timeout: float = 60) -> None:
        """Until /metrics says a worker is READY (not through the probes under test)."""
        def ready():
            if self.spawned.poll() is not None:
                raise AssertionError(f"arbiterd exited\n{self.spawned.output()}")
            status, body = self.get(metrics_port, "/metrics")
            return status == 200 and re.search(rb'greenfork_workers\{[^}]*state="ready"[^}]*\} [1-9]', body)
        wait_until(ready, timeout=timeout, message="a READY worker in /metrics")

    def scrape(self, port: int, path: str) -> tuple[set, set]:
        status, body = self.get(port, path)
        assert status == 200, (status, body)
        return exposition(body.decode())

    def worker_env(self, name: str) -> list[str]:
        """The value of an environment variable in each worker."""
        values = []
        for pid in worker_pids(self.spawned.pid):
            with open(f"/proc/{pid}/environ", "rb") as f:
                for entry in f.read().split(b"\0"):
                    if entry.startswith(name.encode() + b"="):
                        values.append(entry.split(b"=", 1)[1].decode())
        return values

    def on_volume(self, path: str) -> bool:
        return any(Path(path).resolve().is_relative_to(d.resolve()) for d in self.mounts.values())

    @staticmethod
    def is_socket(path: str) -> bool:
        return os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode)


def from_deployment(deployment: dict) -> LiveArbiter:
    c = container_of(deployment)
    command = c.get("command") or ["/usr/local/bin/arbiterd"]
    env = {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
    return LiveArbiter(command + c.get("args", []), env, list(container_ports(deployment).values()),
                       empty_dirs(deployment))


def probe_problems(deployment: dict, live: LiveArbiter) -> list[str]:
    """Each probe's path answers 200 on arbiterd's metrics address (an app
    answering 200 on any path would otherwise pass)."""
    c = container_of(deployment)
    ports = container_ports(deployment)
    bind = flag_value(c.get("args", []), "--metrics-bind") or ""
    problems = []
    for kind, body in (("readinessProbe", b"ready"), ("livenessProbe", b"ok")):
        probe = c.get(kind, {}).get("httpGet")
        if probe is None:
            problems.append(f"no {kind} httpGet")
            continue
        port = ports.get(probe["port"]) if isinstance(probe["port"], str) else int(probe["port"])
        if port is None or not bind.endswith(f":{port}"):
            problems.append(f"{kind} port {probe['port']!r} is not --metrics-bind {bind!r}")
            continue
        try:
            status, got = live.get(port, probe["path"])
        except OSError as exc:
            problems.append(f"{kind} {probe['path']} on {port}: {exc!r}")
            continue
        if status != 200 or got.strip() != body:
            problems.append(f"{kind} {probe['path']} on {port}: {status} {got[:80]!r}")
    return problems
