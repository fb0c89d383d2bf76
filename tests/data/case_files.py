"""Writes (or checks) a data-file test suite: NAME.bin with the bytes and
NAME.json with what the parser must make of them, in valid/ and invalid/.
Shared by the generators in the folders beside this file."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def write_cases(here: Path, groups: dict[str, dict[str, tuple[bytes, object]]], what: str) -> int:
    """groups: folder -> {name: (bytes, expectation)}. With --check on the
    command line nothing is written: exits 1 when a file is stale."""
    check = sys.argv[1:] == ["--check"]
    stale = []
    for folder, cases in groups.items():
        d = here / folder
        wanted = set()
        for name, (data, expect) in sorted(cases.items()):
            files = {f"{name}.bin": data,
                     f"{name}.json": (json.dumps(expect, indent=1) + "\n").encode()}
            for fname, content in files.items():
                wanted.add(fname)
                path = d / fname
                if path.exists() and path.read_bytes() == content:
                    continue
                stale.append(str(path))
                if not check:
                    d.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
        for extra in d.glob("*") if d.exists() else []:
            if extra.name not in wanted:
                stale.append(str(extra))
                if not check:
                    extra.unlink()
    if check and stale:
        print(f"stale {what} cases (rerun {here / 'make_cases.py'}):", *stale, sep="\n  ")
        return 1
    return 0
