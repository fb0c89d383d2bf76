#!/usr/bin/python3
"""Writes the WebSocket frame test cases in valid/ and invalid/ (run it,
commit both).

Each case is NAME.bin (the bytes a client sends after the handshake) and
NAME.json, read by tests/websocket/frame_data_test.cpp:

  {"max_size": bytes (--ws-max-size),
   "deflate": null | {"client_no_context_takeover": bool},   # negotiated?
   "events": [{"kind": "text"|"binary"|"ping"|"pong"|"close",
               "data": latin-1 string (the message, payload or close reason),
               "repeat": N (optional: the message is `data` N times),
               "code": close code (close events)}],
   "result": "need_more" | "closed" | "error",
   "consumed": bytes used ("closed": bytes after the close frame are not;
               absent for "error": how far an error reads is unspecified),
   "code": the close code of an error, "why": part of its reason}

valid/ cases end in "need_more" or "closed"; invalid/ ones in "error" (the
events before the fault are still listed). The result must be the same
whichever way the bytes are split (whole, byte by byte, random cuts).

    /usr/bin/python3 tests/data/websocket/make_cases.py          # rewrite the files
    /usr/bin/python3 tests/data/websocket/make_cases.py --check  # exit 1 if stale
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from case_files import write_cases  # noqa: E402
KEY = b"\x37\xfa\x21\x3d"  # RFC 6455 5.7's example mask key
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def frame(op: int, payload: bytes = b"", fin=True, rsv=0, mask: bytes | None = KEY,
          length: bytes | None = None) -> bytes:
    """A client frame; `length` overrides the encoded length field."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask is not None else 0
    if length is not None:
        head = bytes([b0, mbit | length[0]]) + length[1:]
    elif len(payload) < 126:
        head = bytes([b0, mbit | len(payload)])
    elif len(payload) <= 0xFFFF:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", len(payload))
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", len(payload))
    if mask is None:
        return head + payload
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close(code: int | None, reason: bytes = b"", **kw) -> bytes:
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(CLOSE, payload, **kw)


def ev(kind: str, data: bytes = b"", code: int = 0, repeat: int = 1) -> dict:
    e = {"kind": kind, "data": data.decode("latin-1")}
    if repeat != 1:
        e["repeat"] = repeat
    if kind == "close":
        e["code"] = code
    return e


def case(data: bytes, events=(), result="need_more", consumed=None, max_size=16 << 20,
         deflate=None, code=0, why="") -> tuple[bytes, dict]:
    doc = {"max_size": max_size, "deflate": deflate, "events": list(events), "result": result}
    if result != "error":
        doc["consumed"] = len(data) if consumed is None else consumed
    else:
        doc["code"] = code
        doc["why"] = why
    return data, doc


def bad(data: bytes, code: int, why: str, events=(), **kw):
    return case(data, events, result="error", code=code, why=why, **kw)


def deflated(message: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(message) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


PMD = {"client_no_context_takeover": False}
PMD_NCT = {"client_no_context_takeover": True}
HELLO_Z = bytes.fromhex("f248cdc9c90700")  # RFC 7692 7.2.3.1
BIG = bytes(range(256)) * 300               # 76800 bytes: a 64-bit length
EURO = "€".encode()
CLOSE_1000 = close(1000, b"bye")

VALID = {
    "text_hello": case(frame(TEXT, b"Hello"), [ev("text", b"Hello")]),
    "rfc6455_masked_hello": case(bytes.fromhex("818537fa213d7f9f4d5158"), [ev("text", b"Hello")]),
    "binary": case(frame(BINARY, b"\x00\xff\x10"), [ev("binary", b"\x00\xff\x10")]),
    "empty_text": case(frame(TEXT), [ev("text")]),
    "empty_binary": case(frame(BINARY), [ev("binary")]),
    "zero_mask_key": case(frame(TEXT, b"abc", mask=b"\0\0\0\0"), [ev("text", b"abc")]),
    "two_messages": case(frame(TEXT, b"one") + frame(BINARY, b"two"),
                         [ev("text", b"one"), ev("binary", b"two")]),
    "fragmented_text": case(frame(TEXT, b"Hel", fin=False) + frame(CONT, b"lo ", fin=False) +
                            frame(CONT, b"world"), [ev("text", b"Hello world")]),
    "fragmented_empty_fragments": case(frame(BINARY, b"", fin=False) + frame(CONT, b"", fin=False) +
                                       frame(CONT, b"x"), [ev("binary", b"x")]),
    "ping_between_fragments": case(frame(TEXT, b"ab", fin=False) + frame(PING, b"p") +
                                   frame(CONT, b"cd"), [ev("ping", b"p"), ev("text", b"abcd")]),
    "close_between_fragments": case(frame(TEXT, b"ab", fin=False) + CLOSE_1000 + frame(CONT, b"cd"),
                                    [ev("close", b"bye", 1000)], result="closed",
                                    consumed=len(frame(TEXT, b"ab", fin=False) + CLOSE_1000)),
    "ping_pong": case(frame(PING, b"hi") + frame(PONG, b"there"), [ev("ping", b"hi"), ev("pong", b"there")]),
    "ping_empty": case(frame(PING), [ev("ping")]),
    "ping_125_bytes": case(frame(PING, b"p" * 125), [ev("ping", b"p" * 125)]),
    "length_126": case(frame(BINARY, b"b" * 126), [ev("binary", b"b" * 126)]),
    "length_65535": case(frame(BINARY, b"c" * 65535), [ev("binary", b"c", repeat=65535)]),
    "length_64bit": case(frame(BINARY, BIG), [ev("binary", bytes(range(256)), repeat=300)]),
    "utf8_split_across_fragments": case(frame(TEXT, EURO[:1], fin=False) + frame(CONT, EURO[1:2], fin=False)
                                        + frame(CONT, EURO[2:]), [ev("text", EURO)]),
    "utf8_four_byte": case(frame(TEXT, "𝄞 and \U0010FFFF".encode()),
                           [ev("text", "𝄞 and \U0010FFFF".encode())]),
    "max_size_exact": case(frame(TEXT, b"12345", fin=False) + frame(CONT, b"67890"),
                           [ev("text", b"1234567890")], max_size=10),
    "control_frames_not_counted": case(frame(TEXT, b"1234567890", fin=False) + frame(PING, b"x" * 20)
                                       + frame(CONT), [ev("ping", b"x" * 20), ev("text", b"1234567890")],
                                       max_size=10),
    "close_no_payload": case(close(None), [ev("close", b"", 1005)], result="closed"),
    "close_1000": case(close(1000), [ev("close", b"", 1000)], result="closed"),
    "close_reason_utf8": case(close(1001, EURO + b" gone"), [ev("close", EURO + b" gone", 1001)],
                              result="closed"),
    "close_1014": case(close(1014), [ev("close", b"", 1014)], result="closed"),
    "close_3000": case(close(3000), [ev("close", b"", 3000)], result="closed"),
    "close_4999": case(close(4999), [ev("close", b"", 4999)], result="closed"),
    "close_then_more_bytes": case(CLOSE_1000 + frame(TEXT, b"ignored"), [ev("close", b"bye", 1000)],
                                  result="closed", consumed=len(CLOSE_1000)),
    "truncated_header": case(frame(TEXT, b"x" * 200)[:3], consumed=3),
    "truncated_payload": case(frame(TEXT, b"Hello") + frame(TEXT, b"world")[:8],
                              [ev("text", b"Hello")]),
    "truncated_mask_key": case(frame(TEXT, b"Hello")[:4]),
    # RFC 7692 7.2.3: permessage-deflate.
    "deflate_rfc_hello": case(frame(TEXT, HELLO_Z, rsv=4), [ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_fragmented": case(frame(TEXT, HELLO_Z[:3], rsv=4, fin=False) + frame(CONT, HELLO_Z[3:]),
                                   [ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_shared_window": case(frame(TEXT, HELLO_Z, rsv=4) +
                                      frame(TEXT, bytes.fromhex("f20011000100"), rsv=4),
                                      [ev("text", b"Hello"), ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_no_compression": case(frame(TEXT, bytes.fromhex("000500faff48656c6c6f00"), rsv=4),
                                       [ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_bfinal": case(frame(TEXT, bytes.fromhex("f348cdc9c9070000"), rsv=4) +
                               frame(TEXT, HELLO_Z, rsv=4),
                               [ev("text", b"Hello"), ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_two_blocks": case(frame(TEXT, bytes.fromhex("f24805000000ffffcac9c90700"), rsv=4),
                                   [ev("text", b"Hello")], deflate=PMD),
    "deflate_rfc_empty": case(frame(BINARY, b"\x00", rsv=4), [ev("binary")], deflate=PMD),
    "deflate_uncompressed_message": case(frame(TEXT, b"plain", rsv=0), [ev("text", b"plain")], deflate=PMD),
    "deflate_no_context_takeover": case(frame(TEXT, HELLO_Z, rsv=4) + frame(TEXT, HELLO_Z, rsv=4),
                                        [ev("text", b"Hello"), ev("text", b"Hello")], deflate=PMD_NCT),
    "deflate_large_ratio_within_max": case(frame(BINARY, deflated(b"\0" * 100000), rsv=4),
                                           [ev("binary", b"\0", repeat=100000)], deflate=PMD, max_size=100000),
}

BAD_UTF8 = {"invalid_utf8_ff": b"ab\xff", "invalid_utf8_overlong": b"\xc0\xaf",
            "invalid_utf8_overlong_3": b"\xe0\x80\xaf", "invalid_utf8_surrogate": b"\xed\xa0\x80",
            "invalid_utf8_above_10ffff": b"\xf4\x90\x80\x80", "invalid_utf8_truncated": b"ok\xe2\x82",
            "invalid_utf8_lone_continuation": b"\x80"}

INVALID = {
    "unmasked_text": bad(frame(TEXT, b"Hello", mask=None), 1002, "unmasked frame from a client"),
    "rsv1_without_extension": bad(frame(TEXT, b"x", rsv=4), 1002, "RSV1 set without"),
    "rsv2": bad(frame(TEXT, b"x", rsv=2), 1002, "RSV2/RSV3"),
    "rsv3": bad(frame(TEXT, b"x", rsv=1), 1002, "RSV2/RSV3"),
    "rsv2_with_deflate": bad(frame(TEXT, b"x", rsv=6), 1002, "RSV2/RSV3", deflate=PMD),
    "rsv1_on_continuation": bad(frame(TEXT, HELLO_Z[:3], rsv=4, fin=False) + frame(CONT, HELLO_Z[3:], rsv=4),
                                1002, "RSV1 set on a control or continuation", deflate=PMD),
    "rsv1_on_ping": bad(frame(PING, b"", rsv=4), 1002, "RSV1 set on a control", deflate=PMD),
    "opcode_3": bad(frame(3, b"x"), 1002, "reserved opcode 3"),
    "opcode_7": bad(frame(7), 1002, "reserved opcode 7"),
    "opcode_11": bad(frame(0xB), 1002, "reserved opcode 11"),
    "opcode_15": bad(frame(0xF), 1002, "reserved opcode 15"),
    "ping_fragmented": bad(frame(PING, b"p", fin=False), 1002, "fragmented control frame"),
    "close_fragmented": bad(close(1000, fin=False), 1002, "fragmented control frame"),
    "ping_126_bytes": bad(frame(PING, b"p" * 126), 1002, "control frame longer than 125"),
    "pong_64bit_length": bad(frame(PONG, length=b"\x7f" + struct.pack("!Q", 70000)), 1002,
                             "control frame longer than 125"),
    "length16_not_minimal": bad(frame(BINARY, length=b"\x7e\x00\x7d"), 1002, "minimal form"),
    "length64_not_minimal": bad(frame(BINARY, length=b"\x7f" + struct.pack("!Q", 0xFFFF)), 1002,
                                "minimal form"),
    "length64_high_bit": bad(frame(BINARY, length=b"\x7f" + struct.pack("!Q", 1 << 63)), 1002, "high bit"),
    "continuation_without_start": bad(frame(CONT, b"x"), 1002, "continuation frame without a message"),
    "continuation_after_complete_message": bad(frame(TEXT, b"a") + frame(CONT, b"b"), 1002,
                                               "continuation frame without", [ev("text", b"a")]),
    "text_during_fragmented_message": bad(frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), 1002,
                                          "new data frame while"),
    "binary_during_fragmented_message": bad(frame(TEXT, b"a", fin=False) + frame(BINARY, b"b"), 1002,
                                            "new data frame while"),
    "too_big_single_frame": bad(frame(TEXT, b"12345678901"), 1009, "larger than 10", max_size=10),
    # The frame that would pass the bound is refused at its header: 1 TiB
    # announced, nothing sent, nothing buffered.
    "too_big_announced_1tib": bad(frame(BINARY, length=b"\x7f" + struct.pack("!Q", 1 << 40)) + KEY,
                                  1009, "larger than 16777216"),
    "too_big_across_fragments": bad(frame(TEXT, b"123456", fin=False) + frame(CONT, b"78901"), 1009,
                                    "larger than 10", max_size=10),
    "invalid_utf8_across_fragments": bad(frame(TEXT, b"\xe2", fin=False) + frame(CONT, b"\x28\xa1"), 1007,
                                         "not valid UTF-8"),
    # Refused at the bad byte, before the message (or even the frame) ends.
    "invalid_utf8_fails_fast": bad(frame(TEXT, b"ab\xffcdef", fin=False)[:9], 1007, "not valid UTF-8"),
    "close_one_byte": bad(frame(CLOSE, b"\x03"), 1002, "1-byte payload"),
    "close_reason_invalid_utf8": bad(close(1000, b"\xff"), 1007, "close reason is not valid UTF-8"),
    "deflate_garbage": bad(frame(BINARY, b"\xff\xff\xff\xff", rsv=4), 1007, "cannot be inflated",
                           deflate=PMD),
    "deflate_text_invalid_utf8": bad(frame(TEXT, deflated(b"\xc0\xaf"), rsv=4), 1007, "not valid UTF-8",
                                     deflate=PMD),
    # 10 MiB of zeros in ~10 KiB: refused once 16 KiB are inflated.
    "deflate_bomb": bad(frame(BINARY, deflated(b"\0" * (10 << 20)), rsv=4), 1009,
                        "decompressed message larger than 16384", max_size=16384, deflate=PMD),
    "deflate_just_over_max": bad(frame(BINARY, deflated(b"x" * 1025), rsv=4), 1009,
                                 "decompressed message larger than 1024", max_size=1024, deflate=PMD),
}
for name, text in BAD_UTF8.items():
    INVALID[name] = bad(frame(TEXT, text), 1007, "not valid UTF-8")
for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
    INVALID[f"close_code_{code}"] = bad(close(code), 1002, f"close code {code} is not allowed")


def main() -> int:
    return write_cases(HERE, {"valid": VALID, "invalid": INVALID}, "WebSocket")


if __name__ == "__main__":
    sys.exit(main())
