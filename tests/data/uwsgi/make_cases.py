#!/usr/bin/python3
"""Writes the uwsgi protocol packet test cases in valid/ and invalid/ (run
it, commit both).

Each case is NAME.bin (what nginx's uwsgi_pass sends first: the 4-byte
header, the variables, often followed by body bytes) and NAME.json:

  valid/NAME.json    {"consumed": bytes of header + variables,
                      "vars": [[key, value], ...],
                      "request": {"method", "target", "http_minor", "headers": [[n, v]],
                                  "content_length": n|null, "remote_addr",
                                  "remote_port": n|null, "server_name", "server_port",
                                  "scheme": str|null}}
  invalid/NAME.json  {"result": "error"|"need_more"|"bad_request", "why": "..."}

"error": the packet is refused (UwsgiParse::kError); "need_more": a cut
packet that never completes (the engine closes it at --header-timeout or
EOF); "bad_request": the packet parses but its variables are no request
(to_request() refuses it). Every valid case also says need-more for each
shorter prefix of its packet. The parser limits are the defaults
(--limit-request-fields 100 + 32 variables, 8190-byte keys and values,
4094-byte request line).

    /usr/bin/python3 tests/data/uwsgi/make_cases.py          # rewrite the files
    /usr/bin/python3 tests/data/uwsgi/make_cases.py --check  # exit 1 if stale
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from case_files import write_cases  # noqa: E402


def block(pairs) -> bytes:
    out = b""
    for k, v in pairs:
        k = k.encode("latin-1") if isinstance(k, str) else k
        v = v.encode("latin-1") if isinstance(v, str) else v
        out += struct.pack("<H", len(k)) + k + struct.pack("<H", len(v)) + v
    return out


def packet(pairs, modifier1=0, modifier2=0, size=None) -> bytes:
    b = block(pairs)
    return bytes([modifier1]) + struct.pack("<H", len(b) if size is None else size) + \
        bytes([modifier2]) + b


# What nginx sends with `include uwsgi_params;` for GET /a%20b?x=1&y=2.
NGINX = [("QUERY_STRING", "x=1&y=2"), ("REQUEST_METHOD", "GET"), ("CONTENT_TYPE", ""),
         ("CONTENT_LENGTH", ""), ("REQUEST_URI", "/a%20b?x=1&y=2"), ("PATH_INFO", "/a b"),
         ("DOCUMENT_ROOT", "/usr/share/nginx/html"), ("SERVER_PROTOCOL", "HTTP/1.1"),
         ("REQUEST_SCHEME", "http"), ("REMOTE_ADDR", "192.0.2.7"), ("REMOTE_PORT", "51234"),
         ("SERVER_PORT", "8080"), ("SERVER_NAME", "example.com"), ("HTTP_HOST", "example.com"),
         ("HTTP_USER_AGENT", "curl/7.88.1"), ("HTTP_ACCEPT", "*/*"),
         ("HTTP_X_CUSTOM_THING", "v1")]


def req(method="GET", target="/", http_minor=1, headers=(), content_length=None,
        remote_addr="", remote_port=None, server_name="", server_port="", scheme=None):
    return {"method": method, "target": target, "http_minor": http_minor,
            "headers": [list(h) for h in headers], "content_length": content_length,
            "remote_addr": remote_addr, "remote_port": remote_port,
            "server_name": server_name, "server_port": server_port, "scheme": scheme}


def ok(pairs, request, after=b"", **kw):
    data = packet(pairs, **kw)
    return data + after, {"consumed": len(data), "vars": [list(p) for p in pairs],
                          "request": request}


def bad(data: bytes, why: str, result="error"):
    return data, {"result": result, "why": why}


NGINX_REQUEST = req(target="/a%20b?x=1&y=2", headers=[("HOST", "example.com"),
                                                     ("USER-AGENT", "curl/7.88.1"),
                                                     ("ACCEPT", "*/*"),
                                                     ("X-CUSTOM-THING", "v1")],
                    remote_addr="192.0.2.7", remote_port=51234, server_name="example.com",
                    server_port="8080")

VALID = {
    "nginx_get": ok(NGINX, NGINX_REQUEST),
    "nginx_post_with_body": ok(
        [("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/form"), ("PATH_INFO", "/form"),
         ("CONTENT_TYPE", "application/x-www-form-urlencoded"), ("CONTENT_LENGTH", "7"),
         ("SERVER_PROTOCOL", "HTTP/1.0"), ("HTTP_HOST", "h")],
        req(method="POST", target="/form", http_minor=0,
            headers=[("HOST", "h"), ("Content-Type", "application/x-www-form-urlencoded"),
                     ("Content-Length", "7")], content_length=7),
        after=b"a=1&b=2"),
    "no_request_uri_path_reencoded": ok(
        [("REQUEST_METHOD", "GET"), ("PATH_INFO", "/a b/%/?#\xe9"), ("QUERY_STRING", "q=1")],
        req(target="/a%20b/%25/%3F%23%E9?q=1")),
    "empty_packet_gunicorn_defaults": ok([], req()),
    "https_on": ok([("HTTPS", "on"), ("REQUEST_URI", "/")], req(scheme="https")),
    "uwsgi_scheme": ok([("UWSGI_SCHEME", "https"), ("REQUEST_URI", "/")], req(scheme="https")),
    "http2_client_is_http11_here": ok([("SERVER_PROTOCOL", "HTTP/2.0"), ("REQUEST_URI", "/")],
                                      req()),
    "modifier2_ignored": ok([("REQUEST_URI", "/m")], req(target="/m"), modifier2=7),
    "duplicate_headers_kept": ok(
        [("REQUEST_URI", "/"), ("HTTP_COOKIE", "a=1"), ("HTTP_COOKIE", "b=2")],
        req(headers=[("COOKIE", "a=1"), ("COOKIE", "b=2")])),
    "http_content_length_var_ignored": ok(
        [("REQUEST_URI", "/"), ("HTTP_CONTENT_LENGTH", "99"), ("CONTENT_LENGTH", "0")],
        req(headers=[("Content-Length", "0")], content_length=0)),
    "empty_value": ok([("REQUEST_URI", "/"), ("HTTP_X_EMPTY", "")],
                      req(headers=[("X-EMPTY", "")])),
    "pipelined_bytes_not_consumed": ok([("REQUEST_URI", "/")], req(), after=b"\x00\x00\x00\x00"),
}

LONG = "x" * 8191
INVALID = {
    "modifier1_5": bad(packet([("REQUEST_URI", "/")], modifier1=5), "unsupported modifier1 5"),
    "modifier1_first_byte_only": bad(b"\x01", "unsupported modifier1 1"),
    "http_request_on_uwsgi_port": bad(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unsupported modifier1 71"),
    "truncated_key_length": bad(b"\x00\x01\x00\x00\x05", "truncated variable name length"),
    "key_past_block": bad(b"\x00\x03\x00\x00\x05\x00a", "truncated variable name"),
    "value_length_missing": bad(b"\x00\x03\x00\x00\x01\x00a", "truncated value length of a"),
    "value_past_block": bad(b"\x00\x06\x00\x00\x01\x00a\x09\x00b", "truncated value of a"),
    "empty_key": bad(packet([("", "v")]), "empty variable name"),
    "key_too_long": bad(packet([(LONG, "v")]), "variable name longer than the limit"),
    "value_too_long": bad(packet([("HTTP_X", LONG)]), "value of HTTP_X longer than the limit"),
    "too_many_vars": bad(packet([("HTTP_X%d" % i, "v") for i in range(133)]),
                         "more than 132 variables"),
    "truncated_header": bad(b"\x00\x10", "", result="need_more"),
    "truncated_vars": bad(packet(NGINX)[:60], "", result="need_more"),
    "bad_method": bad(packet([("REQUEST_METHOD", "GE T")]), "bad REQUEST_METHOD", "bad_request"),
    "uri_with_space": bad(packet([("REQUEST_URI", "/a b")]), "bad REQUEST_URI", "bad_request"),
    "uri_with_crlf": bad(packet([("REQUEST_URI", "/a\r\nX: y")]), "bad REQUEST_URI", "bad_request"),
    "uri_too_long": bad(packet([("REQUEST_URI", "/" + "a" * 4094)]),
                        "longer than --limit-request-line", "bad_request"),
    "header_value_crlf": bad(packet([("HTTP_X_A", "v\r\nSet-Cookie: s=1")]), "bad value of HTTP_X_A",
                             "bad_request"),
    "header_name_not_token": bad(packet([("HTTP_X(A)", "v")]), "bad header variable HTTP_X(A)",
                                 "bad_request"),
    "content_length_negative": bad(packet([("CONTENT_LENGTH", "-1")]), "bad CONTENT_LENGTH",
                                   "bad_request"),
    "content_length_hex": bad(packet([("CONTENT_LENGTH", "0x10")]), "bad CONTENT_LENGTH",
                              "bad_request"),
    "remote_port_too_big": bad(packet([("REMOTE_PORT", "70000")]), "bad REMOTE_PORT",
                               "bad_request"),
    "bad_protocol": bad(packet([("SERVER_PROTOCOL", "SPDY/3")]), "bad SERVER_PROTOCOL",
                        "bad_request"),
    "bad_scheme": bad(packet([("UWSGI_SCHEME", "gopher")]), "bad UWSGI_SCHEME", "bad_request"),
    "query_with_space": bad(packet([("PATH_INFO", "/"), ("QUERY_STRING", "a b")]),
                            "bad QUERY_STRING", "bad_request"),
}


def main() -> int:
    return write_cases(HERE, {"valid": VALID, "invalid": INVALID}, "uwsgi")


if __name__ == "__main__":
    sys.exit(main())
