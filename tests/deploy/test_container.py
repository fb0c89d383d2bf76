"""deploy/container/Containerfile without a container engine: the runtime
stage installs exactly the Debian packages that hold the shared libraries
the built binaries load (ldd, then dpkg -S), the build stage copies what
CMake reads, EXPOSE/CMD/USER/ENV agree with the Kubernetes Deployment, the
default CMD serves, and arbiterd as PID 1 of a PID namespace reaps orphans.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from deploy_support import (CONTAINERFILE, K8S, apt_packages, container_of, container_ports,
                            containerfile_stages, exec_form, flag_value, port_of, resources)
from gftest import PYTHON, SOURCE_DIR, Spawned, binary, children_of, cmdline, free_port, wait_until
from live_deployment import LiveArbiter, probe_problems

BINARIES = ("arbiterd", "gworker", "gctl")


@pytest.fixture(scope="module")
def stages():
    return containerfile_stages(CONTAINERFILE.read_text())


@pytest.fixture(scope="module")
def deployment():
    return resources(K8S / "base")["Deployment"]


def instructions(stage: list, name: str) -> list[str]:
    return [rest for instr, rest in stage if instr == name]


def shared_libraries(path: str) -> set[str]:
    """Absolute paths of what the dynamic loader maps for a binary."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=60, check=True).stdout
    libs = set()
    for line in out.splitlines():
        m = re.search(r"=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            libs.add(m.group(1))
        elif "=> not found" in line:
            raise AssertionError(f"{path}: {line.strip()}")
    return libs


def debian_packages(paths: set[str]) -> dict:
    """{path: the Debian package owning it}, trying each path's /usr-merged
    and resolved names; one dpkg -S for all (it is slow per call)."""
    candidates = {}
    for path in paths:
        names = [path, os.path.realpath(path)]
        names += [n[4:] if n.startswith("/usr/") else "/usr" + n for n in list(names)]
        candidates[path] = names
    out = subprocess.run(["dpkg", "-S", *sorted({n for ns in candidates.values() for n in ns})],
                         capture_output=True, text=True, timeout=120)
    owners = {}
    for line in out.stdout.splitlines():
        pkgs, _, file = line.rpartition(": ")
        owners[file] = pkgs.split(", ")[0].split(":")[0]
    result = {}
    for path, names in candidates.items():
        owner = next((owners[n] for n in names if n in owners), None)
        assert owner, f"no Debian package owns {path}"
        result[path] = owner
    return result


def package_problems(listed: list[str], needed: dict) -> list[str]:
    """needed: {package: [libraries]}. Listed must be exactly the needed set."""
    problems = [f"runtime stage lacks {pkg} (for {', '.join(sorted(needed[pkg]))})"
                for pkg in sorted(set(needed) - set(listed))]
    problems += [f"runtime stage installs {pkg}, which no binary loads" for pkg in sorted(set(listed) - set(needed))]
    problems += [f"runtime stage installs a build package {pkg}" for pkg in listed if pkg.endswith("-dev")]
    return problems


def runtime_packages(stages: dict) -> list[str]:
    runs = [apt_packages(r) for r in instructions(stages["runtime"], "RUN")]
    return [p for pkgs in runs for p in pkgs]


def test_runtime_packages_are_exactly_what_the_binaries_load(stages):
    libs = set().union(*(shared_libraries(binary(name)) for name in BINARIES))
    needed: dict = {}
    for lib, pkg in debian_packages(libs).items():
        # A sanitizer build (make test-asan/test-tsan) also loads its runtime,
        # which the image's Release build does not.
        if not (os.environ.get("GF_SANITIZED") and re.match(r"lib(a|ub|t|l)san\d", pkg)):
            needed.setdefault(pkg, set()).add(os.path.basename(lib))
    assert "libpython3.11" in needed and "libgrpc++1.51" in needed, needed
    listed = runtime_packages(stages)
    assert package_problems(listed, needed) == []
    assert package_problems([p for p in listed if p != "libssl3"], needed) != []
    assert package_problems(listed + ["libgrpc++-dev"], needed) != []


def test_stages_are_bookworm_slim_and_build_what_cmake_reads(stages):
    assert set(stages) == {"build", "runtime"}
    for name, stage in stages.items():
        assert re.match(r"(\S+/)?debian:bookworm-slim AS ", stage[0][1]), stage[0]
    copied = {rest.split()[-1].rstrip("/") for rest in instructions(stages["build"], "COPY")}
    top = (SOURCE_DIR / "CMakeLists.txt").read_text()
    for sub in re.findall(r"^add_subdirectory\((\w+)\)", top, re.M):
        assert sub in copied, f"the build stage does not COPY {sub}/"
    build = " ".join(instructions(stages["build"], "RUN"))
    assert "scripts/install-deps.sh" in build and "cmake --build" in build
    for name in BINARIES:
        assert f"build/bin/{name}" in " ".join(instructions(stages["runtime"], "COPY"))


def image_env(stage: list) -> dict:
    env = {}
    for rest in instructions(stage, "ENV"):
        env.update(w.split("=", 1) for w in shlex.split(rest))
    return env


def image_problems(stage: list, deployment: dict) -> list[str]:
    """What the runtime stage declares against what the Deployment runs."""
    problems = []
    c = container_of(deployment)
    exposed = {int(p.split("/")[0]) for rest in instructions(stage, "EXPOSE") for p in rest.split()}
    if exposed != set(container_ports(deployment).values()):
        problems.append(f"EXPOSE {sorted(exposed)} != containerPorts {container_ports(deployment)}")
    entry = exec_form(instructions(stage, "ENTRYPOINT")[-1])
    cmd = exec_form(instructions(stage, "CMD")[-1])
    if Path(entry[0]).name != "arbiterd" or c.get("command") not in (None, entry):
        problems.append(f"ENTRYPOINT {entry} is not arbiterd, or the Deployment runs another command")
    for flag in ("-b", "--metrics-bind", "--control-socket", "--graceful-timeout"):
        if flag_value(cmd, flag) != flag_value(c["args"], flag):
            problems.append(f"CMD {flag} {flag_value(cmd, flag)} != Deployment's {flag_value(c['args'], flag)}")
    for flag in ("-b", "--metrics-bind"):
        if port_of(flag_value(cmd, flag) or ":0") not in exposed:
            problems.append(f"CMD {flag} is on a port the image does not EXPOSE")
    user = instructions(stage, "USER")[-1].split(":")[0]
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    if not user.isdigit() or int(user) == 0 or int(user) != pod["runAsUser"]:
        problems.append(f"USER {user} is not the Deployment's non-root runAsUser {pod['runAsUser']}")
    if instructions(stage, "STOPSIGNAL") != ["SIGTERM"]:
        problems.append("STOPSIGNAL is not SIGTERM (arbiterd's graceful stop)")
    env = image_env(stage)
    for e in c.get("env", []):
        if e["name"] in env and env[e["name"]] != e.get("value"):
            problems.append(f"ENV {e['name']}={env[e['name']]} != Deployment's {e.get('value')}")
    return problems


def test_image_agrees_with_the_deployment(stages, deployment):
    runtime = stages["runtime"]
    assert image_problems(runtime, deployment) == []
    drifted = [(i, r.replace("9100", "9200") if i == "EXPOSE" else r) for i, r in runtime]
    assert image_problems(drifted, deployment) != []
    other = copy.deepcopy(deployment)
    args = container_of(other)["args"]
    args[args.index("--metrics-bind") + 1] = "0.0.0.0:9200"
    assert image_problems(runtime, other) != []
    root = [(i, "0" if i == "USER" else r) for i, r in runtime]
    assert image_problems(root, deployment) != []


def test_default_cmd_serves_the_app_and_the_probes(stages, deployment):
    """`podman run greenfork` as the image would run it: the directories the
    image creates for the non-root user are the writable ones."""
    runtime = stages["runtime"]
    argv = exec_form(instructions(runtime, "ENTRYPOINT")[-1]) + exec_form(instructions(runtime, "CMD")[-1])
    exposed = [int(p) for rest in instructions(runtime, "EXPOSE") for p in rest.split()]
    env = image_env(runtime)
    writable = {env["XDG_RUNTIME_DIR"]: "run", env["TMPDIR"]: "tmp"}
    with LiveArbiter(argv, env, exposed, writable) as live:
        metrics = port_of(flag_value(argv, "--metrics-bind"))
        live.wait_workers_ready(metrics)
        assert probe_problems(deployment, live) == []
        assert live.get(port_of(flag_value(argv, "-b")), "/") == (200, b"Hello, World!\n")
        assert live.is_socket(live.map(flag_value(argv, "--control-socket")))


ORPHAN_MAKER = textwrap.dedent("""
    import os, sys, time
    flag = sys.argv[1]
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            # The grandchild: orphaned when its parent exits, so re-parented
            # to PID 1. It exits when the test says so (bounded).
            os.execv(sys.executable, [sys.executable, "-c",
                "import os, sys, time\\n"
                "end = time.monotonic() + 120\\n"
                "while not os.path.exists(sys.argv[1]) and time.monotonic() < end: time.sleep(0.05)\\n",
                flag, "gf-orphan"])
        os._exit(0)
    os.waitpid(child, 0)
    while True:
        time.sleep(1)
""")


def test_arbiterd_as_pid1_reaps_orphans(tmp_path):
    """In a container arbiterd is PID 1, so a process whose parent died is
    re-parented to it; its waitpid(-1) loop must reap it (no zombie)."""
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-Urpf", "--mount-proc", "true"], capture_output=True,
                           timeout=30) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("user and PID namespaces are not available here (unshare -Urpf)")
    script, flag = tmp_path / "orphan_maker.py", tmp_path / "release"
    script.write_text(ORPHAN_MAKER)
    port = free_port()
    argv = [unshare, "-Urpf", "--mount-proc", binary("arbiterd"), "-w", "1", "-b", f"127.0.0.1:{port}",
            "--control-socket", str(tmp_path / "ctl.sock"), "--", PYTHON, str(script), str(flag)]
    with Spawned(argv, logdir=tmp_path / "logs") as ns:
        arbiterd = wait_until(lambda: children_of(ns.pid), timeout=30, message="arbiterd in the namespace")[0]
        assert "arbiterd" in cmdline(arbiterd)

        def adopted():
            ns.remember_descendants()
            return [p for p in children_of(arbiterd) if "gf-orphan" in cmdline(p)]
        orphan = wait_until(adopted, timeout=60, message="the orphan re-parented to arbiterd")[0]
        flag.write_text("go")

        def reaped():
            return not os.path.exists(f"/proc/{orphan}")  # a zombie would keep its /proc entry
        wait_until(reaped, timeout=30, message=f"arbiterd (PID 1) to reap orphan {orphan}")
        assert ns.poll() is None, ns.output()
        # unshare does not pass a TERM on: arbiterd gets its own, stops as
        # usual (nothing of it is left behind) and unshare exits with it.
        os.kill(arbiterd, signal.SIGTERM)
        assert ns.wait(timeout=60) == 0, ns.output()
