"""Every Gunicorn 26.1 setting (tests/data/gunicorn-26.1-settings.tsv) is
accepted or refused exactly as docs/gunicorn-settings.md says (a generated
table that arbiter_settings_test keeps equal to the C++ table), both as each
of its flags and as a gunicorn.conf.py name."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from arbiter_e2e_support import env_without_systemd, short_tmp  # noqa: F401
from gftest import binary, source


def tsv_rows():
    rows = []
    for line in Path(source("tests/data/gunicorn-26.1-settings.tsv")).read_text().splitlines():
        if line and not line.startswith("#"):
            name, _section, flags, default, _validator = line.split("\t")
            rows.append((name, [] if flags == "-" else flags.split(" "), default))
    return rows


def docs_table():
    """name -> (type, status, note) from the first table of the docs."""
    table = {}
    for line in Path(source("docs/gunicorn-settings.md")).read_text().split("\n## ")[0].splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.replace("\\|", "\0").strip("|").split(" | ")]
        name = cells[0].strip("`")
        table[name] = (cells[2], cells[5], cells[6].replace("\0", "|").split("; range:")[0])
    return table


ROWS = tsv_rows()
DOCS = docs_table()


def test_the_docs_table_has_every_gunicorn_setting_with_a_status():
    assert len(ROWS) == 119
    assert sorted(DOCS) == sorted(name for name, _, _ in ROWS)
    for name, (_type, status, note) in DOCS.items():
        assert status in ("accepted", "accepted-with-note", "refused"), name
        if status != "accepted":
            assert note, name


# TLS settings other than certfile act only with a certificate (and
# cert_reqs with CAs): these are given with them, from a PEM made here.
TLS_WITH_CERT = ("keyfile", "ca_certs", "cert_reqs", "ciphers", "ssl_version",
                 "do_handshake_on_connect", "suppress_ragged_eofs")


def tls_pem(tmp: Path) -> str:
    """A self-signed certificate and its key in one PEM file."""
    pem = tmp / "both.pem"
    if not pem.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(pem), "-out",
                        str(tmp / "cert.pem"), "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=60)
        pem.write_text(pem.read_text() + (tmp / "cert.pem").read_text())
    return str(pem)


def tls_context(name: str, tmp: Path) -> tuple[list[str], str]:
    """(flags, config file lines) that give `name` the certificate it needs."""
    if name not in TLS_WITH_CERT:
        return [], ""
    pem = tls_pem(tmp)
    return ["--certfile", pem, "--ca-certs", pem], f"certfile = {pem!r}\nca_certs = {pem!r}\n"


def value_for(name: str, kind: str, tmp: Path, default: str):
    """(command-line text, Python source) of a valid value, not Gunicorn's default."""
    if name in ("certfile", "keyfile", "ca_certs"):
        return tls_pem(tmp), repr(tls_pem(tmp))
    if kind == "bool" and default == "True":
        return None, "False"
    if kind in ("int", "number") and default == "3":
        return "5", "5"
    special = {
        "bind": ("127.0.0.1:8001", '["127.0.0.1:8001"]'),
        "raw_env": ("A=1", '["A=1"]'),
        "worker_class": ("gthread", '"gthread"'),
        "loglevel": ("debug", '"debug"'),
        "reload_engine": ("poll", '"poll"'),
        "user": (pwd.getpwuid(os.getuid()).pw_name, repr(pwd.getpwuid(os.getuid()).pw_name)),
        "group": (grp.getgrgid(os.getgid()).gr_name, repr(grp.getgrgid(os.getgid()).gr_name)),
        "umask": ("0o22", "0o22"),
        "forwarded_allow_ips": ("*", '"*"'),
        "proxy_allow_ips": ("*", '"*"'),
        "uwsgi_allow_ips": ("10.0.0.0/8", '"10.0.0.0/8"'),
        "proxy_protocol": ("v2", '"v2"'),
        "access_log_format": ("%(h)s", '"%(h)s"'),
        "limit_request_field_size": ("100", "100"),
        "asgi_loop": ("asyncio", '"asyncio"'),
        "asgi_lifespan": ("off", '"off"'),
        "cert_reqs": ("2", "2"),
        "ciphers": ("ECDHE+AESGCM", '"ECDHE+AESGCM"'),
        "ssl_version": ("TLSv1_2", '"TLSv1_2"'),
        "statsd_host": ("127.0.0.1:8125", '"127.0.0.1:8125"'),
        "syslog_addr": ("udp://127.0.0.1:514", '"udp://127.0.0.1:514"'),
        "syslog_facility": ("local0", '"local0"'),
        "log_format": ("json", '"json"'),
        "raw_paste_global_conf": ("a=1", '["a=1"]'),
        "protocol": ("uwsgi", '"uwsgi"'),
        "http_protocols": ("h1,h2", '"h1,h2"'),
    }
    if name in special:
        return special[name]
    for path_setting in ("chdir", "pythonpath", "worker_tmp_dir"):
        if name == path_setting:
            return str(tmp), repr(str(tmp))
    for file_setting in ("pidfile", "errorlog", "accesslog", "control_socket"):
        if name == file_setting:
            return str(tmp / name), repr(str(tmp / name))
    return {
        "bool": (None, "True"),
        "int": ("3", "3"),
        "number": ("3", "3"),
        "string": ("x", '"x"'),
        "list": ("x", '["x"]'),
        "dict": (None, '{"X-A": "b"}'),
        "callable": (None, "lambda *args: None"),
    }[kind]


def arbiterd(args, cwd, stdin_env=None):
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    return subprocess.run([binary("arbiterd"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def expect(result, name, what):
    kind, status, note = DOCS[name]
    if status == "refused":
        assert result.returncode == 2, (what, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (what, result.stderr)
        assert note in lines[0], (what, note, result.stderr)
    else:
        assert result.returncode == 0, (what, result.stderr)
        assert result.stderr == "", (what, result.stderr)


@pytest.mark.parametrize("name,flags,default", ROWS, ids=[r[0] for r in ROWS])
def test_setting_as_flag_and_as_config_file_name(short_tmp, name, flags, default):
    kind = DOCS[name][0]
    text, py = value_for(name, kind, short_tmp, default)
    empty = short_tmp / "empty.conf.py"
    empty.write_text("")
    tls_flags, tls_lines = tls_context(name, short_tmp)
    # --paste names the app itself (a PasteDeploy ini), instead of APP.
    ini = short_tmp / "app.ini"
    ini.write_text("[app:main]\npaste.app_factory = app:make\n")
    app_args = {"paste": [], "raw_paste_global_conf": ["--paste", str(ini)]}.get(name, ["app:app"])
    for flag in flags:
        args = [flag] if kind == "bool" else [flag, str(empty) if name == "config" else
                                              str(ini) if name == "paste" else text]
        result = arbiterd([*tls_flags, *args, "--check-config", *app_args], cwd=short_tmp)
        expect(result, name, f"flag {flag}")
    conf = short_tmp / "gunicorn.conf.py"
    if name == "paste":
        py = repr(str(ini))
    conf.write_text(tls_lines + (f"{name} = {py}\n" if kind != "callable"
                                 else f"def {name}(*args):\n    pass\n"))
    app = [] if name == "wsgi_app" else app_args
    result = arbiterd(["-c", str(conf), "--check-config", *app], cwd=short_tmp)
    # A hook (callable) is accepted or refused as its row says, like any setting.
    expect(result, name, f"config file {name} = {py}")


def test_a_refused_setting_at_gunicorns_default_asks_for_nothing(short_tmp):
    conf = short_tmp / "gunicorn.conf.py"
    conf.write_text('http_protocols = "h1"\nproxy_protocol = "off"\ninitgroups = False\n'
                    'suppress_ragged_eofs = True\nworkers = 2\n')
    result = arbiterd(["-c", str(conf), "--check-config", "app:app"], cwd=short_tmp)
    assert (result.returncode, result.stdout.strip()) == (0, "config OK: 1 pool"), result.stderr
    result = arbiterd(["--http-protocols", "h1", "--header-map=drop", "--check-config", "app:app"], cwd=short_tmp)
    assert (result.returncode, result.stdout.strip()) == (0, "config OK: 1 pool"), result.stderr
    result = arbiterd(["--header-map", "refuse", "--check-config", "app:app"], cwd=short_tmp)
    assert result.returncode == 2 and "--header-map (header_map): not configurable yet" in result.stderr
