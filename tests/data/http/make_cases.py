#!/usr/bin/python3
"""Writes the HTTP parser test cases in valid/ and invalid/ (run it, commit both).

Each case is NAME.http (the exact bytes a client sends, CRLFs and odd bytes
included, so they are spelled here in Python rather than typed into files) and
NAME.json with what the parser must make of them:

  valid/NAME.json    {"requests": [{"method", "target", "version", "headers",
                                    "body" | "body_b64", "trailers", "keep_alive"}]}
  invalid/NAME.json  {"status": 400, "why": "..."}

An invalid case whose head is fine and whose body is not (chunk framing,
trailers, a chunked body over the limit) says "in_body": true: the parser
may hand out that head (kHead) before refusing. Every other invalid case must
be refused before any part of it reaches the app.

Either may carry "limits": {"body": 16} (keys of ParserLimits: request_line,
fields, field_size, body) to run that case with a smaller limit than the
default.

Headers are [name, value] pairs in arrival order, names as sent, values
without surrounding whitespace; strings are latin-1 (one char per byte).
Limits are the engine's defaults (Gunicorn's): request line 4094 (414),
100 fields and 8190 bytes per field line, CRLF included (431), and the body
limit below (413).

    /usr/bin/python3 tests/data/http/make_cases.py          # rewrite the files
    /usr/bin/python3 tests/data/http/make_cases.py --check  # exit 1 if stale
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LIMIT_REQUEST_LINE = 4094
LIMIT_REQUEST_FIELDS = 100
LIMIT_FIELD_SIZE = 8190
# The engine's default body limit; cases only go far past it.
BODY_OVER_LIMIT = 1 << 40  # 1 TiB announced by Content-Length

VALID: dict[str, tuple[bytes, list[dict], dict | None]] = {}
INVALID: dict[str, tuple[bytes, int, str, dict | None]] = {}


def req(method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"",
        version: str = "1.1", trailers: list[tuple[str, str]] | None = None,
        keep_alive: bool = True) -> dict:
    out = {"method": method, "target": target, "version": version,
           "headers": [list(h) for h in headers]}
    printable = all(32 <= b < 127 or b in (9, 10, 13) for b in body)
    if printable:
        out["body"] = body.decode("latin-1")
    else:
        out["body_b64"] = base64.b64encode(body).decode("ascii")
    out["trailers"] = [list(t) for t in (trailers or [])]
    out["keep_alive"] = keep_alive
    return out


def valid(name: str, raw: bytes, *requests: dict, limits: dict | None = None) -> None:
    assert name not in VALID, name
    VALID[name] = (raw, list(requests), limits)


def invalid(name: str, raw: bytes, status: int, why: str, limits: dict | None = None) -> None:
    assert name not in INVALID, name
    INVALID[name] = (raw, status, why, limits)


def head(lines: list[str | bytes], body: bytes = b"") -> bytes:
    """Joins a request line and header lines with CRLF and ends the head."""
    parts = [ln.encode("latin-1") if isinstance(ln, str) else ln for ln in lines]
    return b"\r\n".join(parts) + b"\r\n\r\n" + body


def get(extra: list[str | bytes] | None = None, target: str = "/",
        version: str = "HTTP/1.1") -> bytes:
    return head([f"GET {target} {version}", "Host: x", *(extra or [])])


def post(extra: list[str | bytes], body: bytes) -> bytes:
    return head(["POST / HTTP/1.1", "Host: x", *extra], body)


H = [("Host", "x")]

# ---------------------------------------------------------------- valid ----

valid("get_minimal", get(), req("GET", "/", H))
valid("get_query_and_escapes",
      head(["GET /a%20b/c?x=1&y=%2F HTTP/1.1", "Host: example.com",
            "User-Agent: gftest/1.0", "Accept: */*"]),
      req("GET", "/a%20b/c?x=1&y=%2F",
          [("Host", "example.com"), ("User-Agent", "gftest/1.0"), ("Accept", "*/*")]))
valid("post_content_length", post(["Content-Length: 5"], b"hello"),
      req("POST", "/", H + [("Content-Length", "5")], b"hello"))
valid("post_content_length_zero", post(["Content-Length: 0"], b""),
      req("POST", "/", H + [("Content-Length", "0")]))
valid("post_binary_body",
      post(["Content-Length: 8"], b"\x00\r\n\xff\x7f\x01ab"),
      req("POST", "/", H + [("Content-Length", "8")], b"\x00\r\n\xff\x7f\x01ab"))
valid("post_chunked",
      post(["Transfer-Encoding: chunked"],
           b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"Wikipedia in\r\n\r\nchunks."))
valid("chunked_with_trailers",
      post(["Transfer-Encoding: chunked", "Trailer: X-Checksum"],
           b"3\r\nabc\r\n0\r\nX-Checksum: 900150983cd2\r\nX-More: yes\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked"), ("Trailer", "X-Checksum")],
          b"abc", trailers=[("X-Checksum", "900150983cd2"), ("X-More", "yes")]))
valid("chunked_hex_case_and_leading_zeros",
      post(["Transfer-Encoding: chunked"],
           b"A\r\n0123456789\r\n00b\r\nABCDEFGHIJK\r\n0000\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"0123456789ABCDEFGHIJK"))
valid("chunked_extension",
      post(["Transfer-Encoding: chunked"],
           b"5;name=value\r\nhello\r\n6;flag;q=\"quoted\"\r\n world\r\n0;last\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"hello world"))
valid("chunked_binary",
      post(["Transfer-Encoding: chunked"], b"4\r\n\x00\r\n\xff\r\n0\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"\x00\r\n\xff"))
valid("chunked_many_small",
      post(["Transfer-Encoding: chunked"],
           b"".join(b"1\r\n" + bytes([65 + i % 26]) + b"\r\n" for i in range(200))
           + b"0\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")],
          bytes(65 + i % 26 for i in range(200))))
valid("transfer_encoding_case_insensitive",
      post(["transfer-encoding: CHUNKED"], b"2\r\nok\r\n0\r\n\r\n"),
      req("POST", "/", H + [("transfer-encoding", "CHUNKED")], b"ok"))
valid("pipelined_three",
      get() + post(["Content-Length: 3"], b"abc") + get(["Connection: close"], "/last"),
      req("GET", "/", H),
      req("POST", "/", H + [("Content-Length", "3")], b"abc"),
      req("GET", "/last", H + [("Connection", "close")], keep_alive=False))
valid("pipelined_chunked_then_get",
      post(["Transfer-Encoding: chunked"], b"1\r\nz\r\n0\r\n\r\n") + get(target="/next"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"z"),
      req("GET", "/next", H))
valid("pipelined_trailers_then_get",
      post(["Transfer-Encoding: chunked"], b"2\r\nok\r\n0\r\nX-T: 1\r\n\r\n")
      + get(target="/next", extra=["X-After: trailers"]),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"ok", trailers=[("X-T", "1")]),
      req("GET", "/next", H + [("X-After", "trailers")]))
valid("pipelined_methods",
      head(["HEAD /h HTTP/1.1", "Host: x"])
      + head(["PUT /p HTTP/1.1", "Host: x", "Content-Length: 2"], b"pp")
      + head(["DELETE /d HTTP/1.1", "Host: x"])
      + head(["PATCH /q HTTP/1.1", "Host: x", "Content-Length: 1"], b"q")
      + head(["OPTIONS * HTTP/1.1", "Host: x"]),
      req("HEAD", "/h", H),
      req("PUT", "/p", H + [("Content-Length", "2")], b"pp"),
      req("DELETE", "/d", H),
      req("PATCH", "/q", H + [("Content-Length", "1")], b"q"),
      req("OPTIONS", "*", H))
valid("http10_no_host", head(["GET /old HTTP/1.0"]),
      req("GET", "/old", [], version="1.0", keep_alive=False))
valid("http10_keep_alive", head(["GET / HTTP/1.0", "Connection: keep-alive"]),
      req("GET", "/", [("Connection", "keep-alive")], version="1.0", keep_alive=True))
valid("http10_post", head(["POST / HTTP/1.0", "Content-Length: 4"], b"data"),
      req("POST", "/", [("Content-Length", "4")], b"data", version="1.0", keep_alive=False))
valid("http11_connection_close", get(["Connection: close"]),
      req("GET", "/", H + [("Connection", "close")], keep_alive=False))
valid("http11_connection_tokens", get(["Connection: Keep-Alive, Close"]),
      req("GET", "/", H + [("Connection", "Keep-Alive, Close")], keep_alive=False))
valid("header_whitespace_trimmed",
      head(["GET / HTTP/1.1", "Host:   x   ", "X-Tab:\t\tv a l\t", "X-Inner: a  b"]),
      req("GET", "/", H + [("X-Tab", "v a l"), ("X-Inner", "a  b")]))
valid("header_empty_value", get(["X-Empty:", "X-Spaces:    "]),
      req("GET", "/", H + [("X-Empty", ""), ("X-Spaces", "")]))
valid("header_case_preserved", head(["GET / HTTP/1.1", "hOsT: x", "x-MiXeD-case: Value"]),
      req("GET", "/", [("hOsT", "x"), ("x-MiXeD-case", "Value")]))
valid("header_duplicates_kept", get(["Accept: a", "Cookie: c=1", "Accept: b"]),
      req("GET", "/", H + [("Accept", "a"), ("Cookie", "c=1"), ("Accept", "b")]))
valid("header_tchar_names", get(["X!#$%&'*+-.^`|~09: ok"]),
      req("GET", "/", H + [("X!#$%&'*+-.^`|~09", "ok")]))
valid("header_obs_text_value", get([b"X-Latin: caf\xe9 \x80\xff"]),
      req("GET", "/", H + [("X-Latin", "caf\xe9 \x80\xff")]))
valid("header_value_specials", get(['X-Json: {"a": [1, 2]}; q=0.5, <x>']),
      req("GET", "/", H + [("X-Json", '{"a": [1, 2]}; q=0.5, <x>')]))
valid("header_near_field_limit",
      get(["X-Big: " + "v" * (LIMIT_FIELD_SIZE - 200)]),
      req("GET", "/", H + [("X-Big", "v" * (LIMIT_FIELD_SIZE - 200))]))
valid("header_fields_at_limit",
      get([f"X-F{i}: {i}" for i in range(LIMIT_REQUEST_FIELDS - 1)]),
      req("GET", "/", H + [(f"X-F{i}", str(i)) for i in range(LIMIT_REQUEST_FIELDS - 1)]))
valid("request_line_near_limit",
      get(target="/" + "a" * (LIMIT_REQUEST_LINE - 200)),
      req("GET", "/" + "a" * (LIMIT_REQUEST_LINE - 200), H))
valid("request_line_at_limit",
      get(target="/" + "b" * (LIMIT_REQUEST_LINE - len("GET / HTTP/1.1"))),
      req("GET", "/" + "b" * (LIMIT_REQUEST_LINE - len("GET / HTTP/1.1")), H))
# Gunicorn counts a header line with its CRLF: 8188 bytes + CRLF = 8190 pass.
valid("header_line_at_field_limit",
      get(["X-Edge: " + "e" * (LIMIT_FIELD_SIZE - 2 - len("X-Edge: "))]),
      req("GET", "/", H + [("X-Edge", "e" * (LIMIT_FIELD_SIZE - 2 - len("X-Edge: ")))]))
valid("trailer_line_at_field_limit",
      post(["Transfer-Encoding: chunked"],
           b"0\r\nX-T: " + b"t" * (LIMIT_FIELD_SIZE - 2 - len("X-T: ")) + b"\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")],
          trailers=[("X-T", "t" * (LIMIT_FIELD_SIZE - 2 - len("X-T: ")))]))
valid("body_at_small_limit", post(["Content-Length: 16"], b"0123456789abcdef"),
      req("POST", "/", H + [("Content-Length", "16")], b"0123456789abcdef"),
      limits={"body": 16})
valid("chunked_body_at_small_limit",
      post(["Transfer-Encoding: chunked"], b"8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n"),
      req("POST", "/", H + [("Transfer-Encoding", "chunked")], b"0123456789abcdef"),
      limits={"body": 16})
valid("underscore_headers_dropped",
      get(["X_Forwarded_For: 6.6.6.6", "X-Forwarded-For: 10.0.0.1", "Under_Score: y",
           "X-Real: z"]),
      req("GET", "/", H + [("X-Forwarded-For", "10.0.0.1"), ("X-Real", "z")]))
valid("transfer_encoding_underscore_ignored",
      post(["Transfer_Encoding: chunked", "Content-Length: 5"], b"hello"),
      req("POST", "/", H + [("Content-Length", "5")], b"hello"))
valid("upgrade_served_without_switch",
      get(["Connection: Upgrade", "Upgrade: websocket"]),
      req("GET", "/", H + [("Connection", "Upgrade"), ("Upgrade", "websocket")],
          keep_alive=False))
valid("leading_empty_line_ignored", b"\r\n" + get(target="/after-crlf"),
      req("GET", "/after-crlf", H))
valid("absolute_form", head(["GET http://example.com:8080/p?q=1 HTTP/1.1",
                             "Host: example.com:8080"]),
      req("GET", "http://example.com:8080/p?q=1", [("Host", "example.com:8080")]))
valid("expect_continue",
      post(["Expect: 100-continue", "Content-Length: 2"], b"ok"),
      req("POST", "/", H + [("Expect", "100-continue"), ("Content-Length", "2")], b"ok"))
valid("get_with_body", head(["GET /search HTTP/1.1", "Host: x", "Content-Length: 3"], b"q=1"),
      req("GET", "/search", H + [("Content-Length", "3")], b"q=1"))
valid("content_length_leading_zeros", post(["Content-Length: 003"], b"abc"),
      req("POST", "/", H + [("Content-Length", "003")], b"abc"))
valid("content_length_ows", post(["Content-Length: \t5 "], b"12345"),
      req("POST", "/", H + [("Content-Length", "5")], b"12345"))
valid("target_reserved_chars", get(target="/p;a=b/c:d@e!$&'()*+,=~-._?q=/?:@"),
      req("GET", "/p;a=b/c:d@e!$&'()*+,=~-._?q=/?:@", H))
valid("target_double_slash", get(target="//x//y"), req("GET", "//x//y", H))

# -------------------------------------------------------------- invalid ----

# Content-Length and Transfer-Encoding together: the classic smuggling pair.
invalid("cl_and_te", post(["Content-Length: 5", "Transfer-Encoding: chunked"],
                          b"0\r\n\r\n"), 400, "CL and TE both")
invalid("te_and_cl", post(["Transfer-Encoding: chunked", "Content-Length: 5"],
                          b"0\r\n\r\n"), 400, "TE and CL both")
invalid("cl_and_te_http10", head(["POST / HTTP/1.0", "Content-Length: 5",
                                  "Transfer-Encoding: chunked"], b"0\r\n\r\n"),
        400, "CL and TE both in HTTP/1.0")
invalid("cl_zero_and_te", post(["Content-Length: 0", "Transfer-Encoding: chunked"],
                               b"0\r\n\r\n"), 400, "CL 0 and TE both")

# Content-Length duplicated or malformed.
invalid("cl_duplicate_same", post(["Content-Length: 5", "Content-Length: 5"], b"hello"),
        400, "duplicate Content-Length, same value")
invalid("cl_duplicate_different", post(["Content-Length: 5", "Content-Length: 6"],
                                       b"hello!"), 400, "duplicate Content-Length, different values")
invalid("cl_list_same", post(["Content-Length: 5, 5"], b"hello"), 400,
        "Content-Length list with equal values")
invalid("cl_list_different", post(["Content-Length: 5, 6"], b"hello!"), 400,
        "Content-Length list with different values")
invalid("cl_plus_sign", post(["Content-Length: +5"], b"hello"), 400, "CL with a + sign")
invalid("cl_minus_sign", post(["Content-Length: -5"], b"hello"), 400, "negative CL")
invalid("cl_space_inside", post(["Content-Length: 1 2"], b"x" * 12), 400, "CL with inner space")
invalid("cl_hex", post(["Content-Length: 0x5"], b"hello"), 400, "CL in hex")
invalid("cl_overflow", post(["Content-Length: 184467440737095516160"], b"x"), 400,
        "CL overflowing 64 bits")
invalid("cl_empty", post(["Content-Length:"], b""), 400, "empty CL")
invalid("cl_letters", post(["Content-Length: five"], b"hello"), 400, "CL not a number")
invalid("cl_decimal_point", post(["Content-Length: 5.0"], b"hello"), 400, "CL with a decimal point")
invalid("cl_trailing_comma", post(["Content-Length: 5,"], b"hello"), 400, "CL with trailing comma")
invalid("cl_vertical_tab", post([b"Content-Length: \x0b5"], b"hello"), 400,
        "CL with a vertical tab")

# Transfer-Encoding other than a single final chunked.
invalid("te_chunked_not_last", post(["Transfer-Encoding: chunked, gzip"], b"0\r\n\r\n"),
        400, "chunked is not the final coding")
invalid("te_unknown_coding", post(["Transfer-Encoding: foo"], b"abc"), 501,
        "unknown transfer coding")
invalid("te_unknown_then_chunked", post(["Transfer-Encoding: foo, chunked"], b"0\r\n\r\n"),
        501, "unknown transfer coding before chunked")
invalid("te_identity", post(["Transfer-Encoding: identity"], b"abc"), 501,
        "identity is not a transfer coding")
invalid("te_chunked_twice", post(["Transfer-Encoding: chunked, chunked"], b"0\r\n\r\n"),
        400, "chunked applied twice")
invalid("te_two_fields", post(["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
                              b"0\r\n\r\n"), 400, "chunked applied twice, two fields")
invalid("te_in_http10", head(["POST / HTTP/1.0", "Transfer-Encoding: chunked"],
                             b"0\r\n\r\n"), 400, "Transfer-Encoding in HTTP/1.0")
invalid("te_chunked_suffix", post(["Transfer-Encoding: chunkedx"], b"0\r\n\r\n"), 501,
        "'chunkedx' is not chunked")
invalid("te_obs_fold", post(["Transfer-Encoding:", " chunked"], b"0\r\n\r\n"), 400,
        "TE value on a folded line")
invalid("te_vertical_tab", post([b"Transfer-Encoding:\x0bchunked"], b"0\r\n\r\n"), 400,
        "vertical tab before chunked")

# Chunk sizes and terminators.
TE = ["Transfer-Encoding: chunked"]
invalid("chunk_size_overflow", post(TE, b"fffffffffffffffff1\r\nx\r\n0\r\n\r\n"), 400,
        "chunk size overflows 64 bits")
invalid("chunk_size_negative", post(TE, b"-5\r\nhello\r\n0\r\n\r\n"), 400, "negative chunk size")
invalid("chunk_size_missing", post(TE, b"\r\nhello\r\n0\r\n\r\n"), 400, "empty chunk size")
invalid("chunk_size_not_hex", post(TE, b"g\r\nhello\r\n0\r\n\r\n"), 400, "chunk size not hex")
invalid("chunk_size_0x_prefix", post(TE, b"0x5\r\nhello\r\n0\r\n\r\n"), 400,
        "chunk size with 0x")
invalid("chunk_size_leading_space", post(TE, b" 5\r\nhello\r\n0\r\n\r\n"), 400,
        "space before chunk size")
invalid("chunk_size_bare_lf", post(TE, b"5\nhello\r\n0\r\n\r\n"), 400,
        "chunk size line ends in bare LF")
invalid("chunk_size_bare_cr", post(TE, b"5\rhello\r\n0\r\n\r\n"), 400,
        "chunk size line ends in bare CR")
invalid("chunk_ext_bare_cr", post(TE, b"5;a=b\rc\r\nhello\r\n0\r\n\r\n"), 400,
        "bare CR inside a chunk extension")
invalid("chunk_ext_bare_lf", post(TE, b"5;a\nhello\r\n0\r\n\r\n"), 400,
        "chunk extension ends in bare LF")
invalid("chunk_ext_control", post(TE, b"5;a=\x01\r\nhello\r\n0\r\n\r\n"), 400,
        "control byte in a chunk extension")
invalid("chunk_ext_nul", post(TE, b"5;\x00\r\nhello\r\n0\r\n\r\n"), 400,
        "NUL in a chunk extension")
invalid("chunk_data_too_long", post(TE, b"5\r\nhelloXX\r\n0\r\n\r\n"), 400,
        "chunk data longer than its size")
invalid("chunk_terminator_bare_lf", post(TE, b"5\r\nhello\n0\r\n\r\n"), 400,
        "chunk data ends in bare LF")
invalid("chunk_terminator_bare_cr", post(TE, b"5\r\nhello\r0\r\n\r\n"), 400,
        "chunk data ends in bare CR")
invalid("chunk_terminator_missing", post(TE, b"5\r\nhello0\r\n\r\n"), 400,
        "no CRLF after chunk data")
invalid("last_chunk_missing_final_crlf",
        post(TE, b"0\r\n") + get(target="/smuggled"), 400,
        "no empty line after the last chunk: the next request is not a trailer")
invalid("trailer_space_in_name", post(TE, b"0\r\nBad Trailer: x\r\n\r\n"), 400,
        "space in a trailer name")
invalid("trailer_obs_fold", post(TE, b"0\r\nX-T: a\r\n b\r\n\r\n"), 400,
        "folded trailer line")
invalid("trailer_bare_lf", post(TE, b"0\r\nX-T: a\n\r\n"), 400, "trailer ends in bare LF")

# Smuggling through the end of a chunked body (issue 14, fault 3): the last
# chunk and the trailer section end in CRLF CRLF; a bare LF there must not end
# the body, or the bytes after it are read as a second request.
SMUGGLED = get(target="/smuggled")
invalid("last_chunk_then_bare_lf", post(TE, b"0\r\n\n") + SMUGGLED, 400,
        "last chunk, then a bare LF as the empty line")
invalid("trailer_then_bare_lf", post(TE, b"0\r\nX-T: a\r\n\n") + SMUGGLED, 400,
        "a trailer, then a bare LF as the empty line")
invalid("trailer_then_bare_cr", post(TE, b"0\r\nX-T: a\r\n\r") + SMUGGLED, 400,
        "a trailer, then a bare CR before the next request")
invalid("last_chunk_then_bare_cr_lf_lf", post(TE, b"0\r\n\r\r\n") + SMUGGLED, 400,
        "a bare CR before the final CRLF")
invalid("last_chunk_bare_lf_then_crlf", post(TE, b"0\n\r\n") + SMUGGLED, 400,
        "last-chunk line ends in bare LF")
invalid("last_chunk_ext_bare_lf", post(TE, b"0;a=b\n\r\n") + SMUGGLED, 400,
        "last-chunk extension ends in bare LF")
invalid("trailer_line_bare_lf_inside", post(TE, b"0\r\nX-T: a\nX-U: b\r\n\r\n"), 400,
        "a trailer line ends in bare LF, another follows")
invalid("trailer_name_bare_lf", post(TE, b"0\r\nX-T\n: a\r\n\r\n"), 400,
        "bare LF inside a trailer name")
invalid("trailer_value_bare_cr", post(TE, b"0\r\nX-T: a\rb\r\n\r\n"), 400,
        "bare CR inside a trailer value")
invalid("trailer_obs_fold_tab", post(TE, b"0\r\nX-T: a\r\n\tb\r\n\r\n"), 400,
        "trailer line folded with a tab")
invalid("trailer_after_data_bare_lf_end", post(TE, b"3\r\nabc\r\n0\r\n\n") + SMUGGLED, 400,
        "data, last chunk, then a bare LF as the empty line")
# Chunk lines from Gunicorn's and llhttp's corpora.
invalid("chunk_size_trailing_space", post(TE, b"5\r\nhello\r\n0 \r\n\r\n"), 400,
        "space after the last chunk's size, no extension")
invalid("chunk_size_lf_then_ext", post(TE, b"5\n;\r\nhello\r\n0\r\n\r\n"), 400,
        "bare LF after the chunk size, then an extension")
invalid("chunk_size_space_lf", post(TE, b"3 \n  \r\nfoo\r\n0\r\n\r\n"), 400,
        "space and bare LF after the chunk size")
invalid("chunk_size_cr_cr", post(TE, b"5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n"), 400,
        "chunk size line ends in CR CR")
invalid("chunk_ext_value_bare_cr", post(TE, b"5;ext=val\rue\r\nhello\r\n0\r\n\r\n"), 400,
        "bare CR inside a chunk extension value")
invalid("chunk_ext_quoted_bare_lf", post(TE, b'5;a="x\ny"\r\nhello\r\n0\r\n\r\n'), 400,
        "bare LF inside a quoted chunk extension value")
invalid("chunk_terminator_lf_lf", post(TE, b"5\r\nhello\n\n0\r\n\r\n"), 400,
        "chunk data ends in LF LF")

# Bare CR and bare LF as line ends or inside lines.
invalid("bare_cr_request_line", b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400,
        "request line ends in bare CR")
invalid("bare_lf_request_line", b"GET / HTTP/1.1\nHost: x\r\n\r\n", 400,
        "request line ends in bare LF")
invalid("bare_lf_header", b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400,
        "header line ends in bare LF")
invalid("bare_lf_end_of_head", b"GET / HTTP/1.1\r\nHost: x\r\n\n", 400,
        "head ends in CRLF LF")
invalid("bare_lf_everywhere", b"GET / HTTP/1.1\nHost: x\n\n", 400, "LF-only request")
invalid("bare_cr_header_value", get([b"X-A: a\rb"]), 400, "bare CR inside a value")
invalid("bare_cr_header_name", get([b"X\r-A: b"]), 400, "bare CR inside a name")
invalid("bare_lf_before_request_line", b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "a bare LF as the empty line before a request")
invalid("bare_cr_before_request_line", b"\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "a bare CR before a request")
invalid("bare_cr_in_target", b"GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "bare CR inside the target")
invalid("bare_lf_in_target", b"GET /a\nb HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "bare LF inside the target")
invalid("request_line_cr_cr_lf", b"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", 400,
        "request line ends in CR CR LF")
invalid("bare_lf_in_header_name", get([b"X\n-A: b"]), 400, "bare LF inside a name")
invalid("bare_lf_value_then_request",
        head(["GET / HTTP/1.1", "Host: x", b"Newline: a\nContent-Length: 26",
              b"GET / HTTP/1.1\nHost: x"]), 400,
        "bare LF in a value hides a second request (Gunicorn's invalid_field_value_01)")
invalid("bare_lf_obs_fold", get([b"X-A: a\n b"]), 400, "bare LF, then a folded line")
invalid("header_ends_cr_cr_lf", get([b"X-A: a\r"]), 400, "header line ends in CR CR LF")
invalid("end_of_head_cr_cr_lf", b"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", 400,
        "head ends in CR CR LF")

# Obsolete line folding.
invalid("obs_fold_space", get(["X-A: a", " b"]), 400, "obs-fold with a space")
invalid("obs_fold_tab", get(["X-A: a", "\tb"]), 400, "obs-fold with a tab")
invalid("whitespace_before_first_header",
        head(["GET / HTTP/1.1", " Host: x"]), 400, "first header line starts with a space")

# NUL and control bytes in fields.
invalid("nul_in_header_value", get([b"X-A: a\x00b"]), 400, "NUL in a value")
invalid("nul_in_header_name", get([b"X-\x00A: b"]), 400, "NUL in a name")
invalid("control_in_header_value", get([b"X-A: a\x01b"]), 400, "control byte in a value")
invalid("escape_in_header_value", get([b"X-A: a\x1bb"]), 400, "ESC in a value")
invalid("del_in_header_value", get([b"X-A: a\x7fb"]), 400, "DEL in a value")
invalid("control_in_header_name", get([b"X-\x0bA: b"]), 400, "vertical tab in a name")
invalid("non_ascii_in_header_name", get([b"X-\xe9: b"]), 400, "non-ASCII byte in a name")
invalid("nul_in_target", get(target="/a\x00b"), 400, "NUL in the target")
invalid("control_in_target", get(target="/a\x01b"), 400, "control byte in the target")
invalid("del_in_target", get(target="/a\x7fb"), 400, "DEL in the target")
invalid("tab_in_target", get(target="/a\tb"), 400, "tab in the target")

# Field names: whitespace, emptiness, non-token characters.
invalid("space_before_colon", head(["GET / HTTP/1.1", "Host : x"]), 400,
        "space between name and colon")
invalid("tab_before_colon", post(["Content-Length\t: 5"], b"hello"), 400,
        "tab between name and colon")
invalid("space_in_header_name", get(["X Y: z"]), 400, "space inside a name")
invalid("empty_header_name", get([": x"]), 400, "empty name")
invalid("header_without_colon", get(["X-Nocolon"]), 400, "header line without a colon")
invalid("non_token_in_header_name", get(["X(Y): z"]), 400, "'(' inside a name")
invalid("slash_in_header_name", get(["X/Y: z"]), 400, "'/' inside a name")

# Host.
invalid("second_host", get(["Host: y"]), 400, "two Host fields")
invalid("second_host_same_value", get(["Host: x"]), 400, "two Host fields, same value")
invalid("missing_host_http11", head(["GET / HTTP/1.1", "Accept: */*"]), 400,
        "HTTP/1.1 without Host")

# Request line: method, separators, version.
invalid("method_with_paren", b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'(' in the method")
invalid("method_with_at", b"GE@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'@' in the method")
invalid("method_control", b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "control byte in the method")
invalid("method_empty", b" / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "no method")
invalid("tab_separators", b"GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "tabs between request-line parts")
invalid("double_space_request_line", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400,
        "two spaces after the method")
invalid("trailing_space_request_line", b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400,
        "space after the version")
invalid("version_http20", get(version="HTTP/2.0"), 505, "HTTP/2.0 on an HTTP/1 connection")
invalid("version_http110", get(version="HTTP/1.10"), 400, "two-digit minor version")
invalid("version_http11_major", get(version="HTTP/11.1"), 400, "two-digit major version")
invalid("version_lowercase", get(version="http/1.1"), 400, "lowercase protocol name")
invalid("version_garbage", get(version="HTTP/1.x"), 400, "minor version not a digit")
invalid("version_missing", b"GET /\r\nHost: x\r\n\r\n", 400, "no version (HTTP/0.9)")
invalid("empty_target", b"GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400, "no target")
invalid("target_authority_form_get", get(target="example.com:80"), 400,
        "authority-form is only for CONNECT")
invalid("connect_method", head(["CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"]),
        501, "CONNECT is not supported")
invalid("non_ascii_in_target", get(target="/caf\xe9"), 400, "non-ASCII byte in the target")
invalid("absolute_form_empty_host", head(["GET http:///p HTTP/1.1", "Host: x"]), 400,
        "http URI with an empty host")

# Limits (Gunicorn's defaults).
invalid("request_line_too_long", get(target="/" + "a" * (LIMIT_REQUEST_LINE + 100)), 414,
        "request line over --limit-request-line")
invalid("request_line_one_over_limit",
      get(target="/" + "b" * (LIMIT_REQUEST_LINE + 1 - len("GET / HTTP/1.1"))), 414,
      "request line one byte over --limit-request-line")
invalid("request_line_far_too_long", get(target="/" + "a" * 65536), 414,
        "request line far over --limit-request-line")
invalid("too_many_fields",
        get([f"X-F{i}: {i}" for i in range(LIMIT_REQUEST_FIELDS)]), 431,
        "more than --limit-request-fields header fields")
invalid("field_too_long", get(["X-Big: " + "v" * (LIMIT_FIELD_SIZE + 100)]), 431,
        "a field over --limit-request-field_size")
invalid("header_line_one_over_field_limit",
        get(["X-Edge: " + "e" * (LIMIT_FIELD_SIZE - 1 - len("X-Edge: "))]), 431,
        "a header line of 8189 bytes + CRLF: one over --limit-request-field_size")
invalid("header_line_at_limit_without_crlf",
        get(["X-Edge: " + "e" * (LIMIT_FIELD_SIZE - len("X-Edge: "))]), 431,
        "a header line of 8190 bytes: Gunicorn counts the CRLF too")
invalid("trailer_line_one_over_field_limit",
        post(TE, b"0\r\nX-T: " + b"t" * (LIMIT_FIELD_SIZE - 1 - len("X-T: ")) + b"\r\n\r\n"),
        431, "a trailer line of 8189 bytes + CRLF")
invalid("trailer_too_long",
        post(TE, b"1\r\na\r\n0\r\nX-T: " + b"t" * LIMIT_FIELD_SIZE + b"\r\n\r\n"), 431,
        "a trailer line over --limit-request-field_size")
invalid("body_chunked_over_small_limit",
        post(TE, b"a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"), 413,
        "decoded chunked body over the body limit", limits={"body": 16})
invalid("body_content_length_over_small_limit",
        post(["Content-Length: 17"], b"0123456789abcdefg"), 413,
        "Content-Length one over the body limit", limits={"body": 16})
invalid("field_name_too_long", get(["X-" + "n" * (LIMIT_FIELD_SIZE + 100) + ": v"]), 431,
        "a field name over --limit-request-field_size")
invalid("body_content_length_over_limit",
        post([f"Content-Length: {BODY_OVER_LIMIT}"], b"x" * 16), 413,
        "Content-Length over the body limit")


# ---------------------------------------------------------------- write ----

BODY_STAGE_PREFIXES = ("chunk_", "last_chunk_", "trailer_", "body_chunked_")


def rendered() -> dict[Path, bytes]:
    files: dict[Path, bytes] = {}
    for name, (raw, requests, limits) in VALID.items():
        files[HERE / "valid" / f"{name}.http"] = raw
        body = ",\n  ".join(json.dumps(r) for r in requests)
        extra = f',\n "limits": {json.dumps(limits)}' if limits else ""
        files[HERE / "valid" / f"{name}.json"] = (
            '{"requests": [\n  ' + body + "\n ]" + extra + "}\n").encode("ascii")
    for name, (raw, status, why, limits) in INVALID.items():
        files[HERE / "invalid" / f"{name}.http"] = raw
        doc = {"status": status, "why": why}
        if name.startswith(BODY_STAGE_PREFIXES):
            doc["in_body"] = True
        if limits:
            doc["limits"] = limits
        files[HERE / "invalid" / f"{name}.json"] = (json.dumps(doc) + "\n").encode("ascii")
    return files


def main() -> int:
    check = sys.argv[1:] == ["--check"]
    files = rendered()
    stale = []
    for d in ("valid", "invalid"):
        (HERE / d).mkdir(exist_ok=True)
        for p in sorted((HERE / d).iterdir()):
            if p.suffix in (".http", ".json") and p not in files:
                stale.append(f"extra file {p}")
                if not check:
                    p.unlink()
    for path, data in files.items():
        if not path.exists() or path.read_bytes() != data:
            stale.append(f"differs: {path}")
            if not check:
                path.write_bytes(data)
    if check:
        for s in stale:
            print(s, file=sys.stderr)
        if stale:
            print("run /usr/bin/python3 tests/data/http/make_cases.py", file=sys.stderr)
        return 1 if stale else 0
    print(f"{len(VALID)} valid and {len(INVALID)} invalid cases in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
