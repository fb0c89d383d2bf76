#!/usr/bin/python3
"""Writes the PROXY protocol header test cases in valid/ and invalid/ (run it,
commit both).

Each case is NAME.bin (the exact bytes a proxy sends first: a v1 line or a
v2 binary header, often followed by the proxied HTTP bytes) and NAME.json:

  valid/NAME.json    {"mode": "auto"|"v1"|"v2", "version": 1|2, "local": bool,
                      "source", "source_port", "dest", "dest_port",
                      "consumed": bytes of the header}
  invalid/NAME.json  {"mode": ..., "result": "error"|"need_more", "why": "..."}

"error" cases must be refused (ProxyParse::kError); "need_more" cases are
truncated headers that must never complete (the engine closes them at
--header-timeout or at the peer's EOF). Every valid case must also say
need-more for each shorter prefix of its header (a header trickled in).

    /usr/bin/python3 tests/data/proxy/make_cases.py          # rewrite the files
    /usr/bin/python3 tests/data/proxy/make_cases.py --check  # exit 1 if stale
"""

from __future__ import annotations

import ipaddress
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from case_files import write_cases  # noqa: E402
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
HTTP = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def v2(command: int, family: int, transport: int, payload: bytes, version: int = 2,
       length: int | None = None) -> bytes:
    n = len(payload) if length is None else length
    return SIG + bytes([(version << 4) | command, (family << 4) | transport]) + \
        struct.pack("!H", n) + payload


def inet(src: str, dst: str, sport: int, dport: int) -> bytes:
    return ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed + \
        struct.pack("!HH", sport, dport)


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def ok(data: bytes, header_len: int, mode="auto", version=1, local=False, source="",
       source_port=0, dest="", dest_port=0) -> tuple[bytes, dict]:
    return data, {"mode": mode, "version": version, "local": local, "source": source,
                  "source_port": source_port, "dest": dest, "dest_port": dest_port,
                  "consumed": header_len}


def v1ok(line: bytes, **kw):
    return ok(line + HTTP, len(line), version=1, **kw)


def v2ok(header: bytes, **kw):
    return ok(header + HTTP, len(header), version=2, **kw)


def bad(data: bytes, why: str, mode="auto", result="error") -> tuple[bytes, dict]:
    return data, {"mode": mode, "result": result, "why": why}


V4 = inet("192.0.2.10", "198.51.100.1", 56324, 443)
V6 = inet("2001:db8::1", "2001:db8::2", 4000, 8080)
LONGEST_V1 = b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
assert len(LONGEST_V1) == 104

VALID = {
    "v1_tcp4": v1ok(b"PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n", source="192.0.2.10",
                    source_port=56324, dest="198.51.100.1", dest_port=443),
    "v1_tcp6": v1ok(b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 8080\r\n", source="2001:db8::1",
                    source_port=4000, dest="2001:db8::2", dest_port=8080),
    "v1_tcp6_canonical_form": v1ok(b"PROXY TCP6 2001:0db8:0000::0001 ::1 1 2\r\n",
                                   source="2001:db8::1", source_port=1, dest="::1", dest_port=2),
    "v1_tcp6_longest": v1ok(LONGEST_V1, source="ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                            source_port=65535, dest="ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                            dest_port=65535),
    "v1_unknown": v1ok(b"PROXY UNKNOWN\r\n", local=True),
    "v1_unknown_with_addresses": v1ok(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", local=True),
    "v1_mode_v1": v1ok(b"PROXY TCP4 10.0.0.1 10.0.0.2 0 80\r\n", mode="v1", source="10.0.0.1",
                       source_port=0, dest="10.0.0.2", dest_port=80),
    "v1_no_payload_after": ok(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 32, source="1.2.3.4",
                              source_port=1, dest="5.6.7.8", dest_port=2),
    "v2_proxy_inet": v2ok(v2(1, 1, 1, V4), source="192.0.2.10", source_port=56324,
                          dest="198.51.100.1", dest_port=443),
    "v2_proxy_inet6": v2ok(v2(1, 2, 1, V6), source="2001:db8::1", source_port=4000,
                           dest="2001:db8::2", dest_port=8080),
    "v2_proxy_inet_tlvs_skipped": v2ok(
        v2(1, 1, 1, V4 + tlv(0x01, b"h2") + tlv(0x04, b"\x00" * 40) + tlv(0x30, b"ns")),
        source="192.0.2.10", source_port=56324, dest="198.51.100.1", dest_port=443),
    "v2_local": v2ok(v2(0, 0, 0, b""), local=True),
    "v2_local_with_addresses_ignored": v2ok(v2(0, 1, 1, V4), local=True),
    "v2_local_unknown_family_ignored": v2ok(v2(0, 7, 5, b"junk"), local=True),
    "v2_proxy_unspec": v2ok(v2(1, 0, 0, b""), local=True),
    "v2_proxy_unix_addresses_ignored": v2ok(v2(1, 3, 1, b"/a".ljust(108, b"\0") * 2), local=True),
    "v2_mode_v2": v2ok(v2(1, 1, 1, V4), mode="v2", source="192.0.2.10", source_port=56324,
                       dest="198.51.100.1", dest_port=443),
    "v2_v4_mapped_source": v2ok(v2(1, 2, 1, inet("::ffff:192.0.2.7", "::1", 9, 10)),
                                source="::ffff:192.0.2.7", source_port=9, dest="::1",
                                dest_port=10),
}

INVALID = {
    "no_header_http": bad(HTTP, "no PROXY protocol header"),
    "no_header_mode_v1": bad(HTTP, "no PROXY protocol v1 header", mode="v1"),
    "v2_in_mode_v1": bad(v2(1, 1, 1, V4) + HTTP, "no PROXY protocol v1 header", mode="v1"),
    "v1_in_mode_v2": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" + HTTP,
                         "no PROXY protocol v2 header", mode="v2"),
    "lowercase_proxy": bad(b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "no PROXY protocol header"),
    "v1_tcp5": bad(b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "not TCP4, TCP6 or UNKNOWN"),
    "v1_missing_port": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "5 fields"),
    "v1_extra_field": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "5 fields"),
    "v1_double_space": bad(b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "5 fields"),
    "v1_v6_address_in_tcp4": bad(b"PROXY TCP4 ::1 ::1 1 2\r\n", "not a TCP4 address"),
    "v1_v4_address_in_tcp6": bad(b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "not a TCP6 address"),
    "v1_hostname": bad(b"PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "not a TCP4 address"),
    "v1_bad_octet": bad(b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "not a TCP4 address"),
    "v1_port_too_big": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "port"),
    "v1_negative_port": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "port"),
    "v1_port_with_plus": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "port"),
    "v1_bare_lf": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + HTTP, "bare CR or LF"),
    "v1_bare_cr": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "bare CR or LF"),
    "v1_too_long": bad(b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n", "longer than 107"),
    "v1_empty_protocol": bad(b"PROXY \r\n", "not TCP4, TCP6 or UNKNOWN"),
    "v2_version_1": bad(v2(1, 1, 1, V4, version=1), "version 1"),
    "v2_version_3": bad(v2(1, 1, 1, V4, version=3), "version 3"),
    "v2_command_2": bad(v2(2, 1, 1, V4), "neither LOCAL nor PROXY"),
    "v2_family_4": bad(v2(1, 4, 1, V4), "family or transport unknown"),
    "v2_transport_3": bad(v2(1, 1, 3, V4), "family or transport unknown"),
    "v2_dgram": bad(v2(1, 1, 2, V4), "transport is not STREAM"),
    "v2_inet_short": bad(v2(1, 1, 1, V4[:11]), "AF_INET addresses truncated"),
    "v2_inet6_short": bad(v2(1, 2, 1, V6[:35]), "AF_INET6 addresses truncated"),
    "v2_too_long": bad(v2(1, 1, 1, b"", length=16 * 1024 + 1), "longer than 16 KiB"),
    "truncated_v1": bad(b"PROXY TCP4 1.2.3.4 5.6.7", "", result="need_more"),
    "truncated_v1_at_cr": bad(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", "", result="need_more"),
    "truncated_v2_signature": bad(SIG[:7], "", result="need_more"),
    "truncated_v2_fixed_part": bad(SIG + b"\x21\x11\x00", "", result="need_more"),
    "truncated_v2_addresses": bad(v2(1, 1, 1, V4)[:20], "", result="need_more"),
    "truncated_v2_tlv": bad(v2(1, 2, 1, V6 + tlv(1, b"http/1.1"))[:60], "", result="need_more"),
}


def main() -> int:
    return write_cases(HERE, {"valid": VALID, "invalid": INVALID}, "PROXY")


if __name__ == "__main__":
    sys.exit(main())
