"""Gunicorn's --initgroups: with --user, arbiterd (as root) gives the workers
all of the user's groups from the group database, not only its primary group.
Needs root and a user with a supplementary group (skipped otherwise)."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from arbiter_e2e_support import env_without_systemd, short_tmp, start_arbiterd, wait_workers  # noqa: F401
from gftest import free_port


def user_with_supplementary_groups():
    for g in grp.getgrall():
        for name in g.gr_mem:
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            if pw.pw_uid != 0 and len(set(os.getgrouplist(name, pw.pw_gid))) > 1:
                return pw
    return None


def groups_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Groups:"):
                return sorted(int(g) for g in line.split()[1:])
    return []


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs root")
def test_initgroups_gives_the_workers_every_group_of_the_user(short_tmp):
    pw = user_with_supplementary_groups()
    if pw is None:
        pytest.skip("no user with a supplementary group on this machine")
    os.chmod(short_tmp, 0o755)  # the worker (another user) reads nothing there, but may need to traverse
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    expected = sorted(set(os.getgrouplist(pw.pw_name, pw.pw_gid)))
    for extra, want in (([], [pw.pw_gid]), (["--initgroups"], expected)):
        with start_arbiterd(short_tmp, ["-u", pw.pw_name, *extra, "-w", "1", "-b", f"127.0.0.1:{free_port()}"],
                            env=env) as arb:
            worker = wait_workers(arb, 1, timeout=30)[0]
            status = open(f"/proc/{worker}/status").read()
            assert f"Uid:\t{pw.pw_uid}" in status
            assert groups_of(worker) == want, (extra, groups_of(worker), want)
