"""Number formatting shared by the report and the scenarios."""

from typing import Optional


def fmt_us(us: Optional[float]) -> str:
    if us is None:
        return "–"
    if us < 1000:
        return f"{us:.0f} µs"
    if us < 1e6:
        return f"{us / 1e3:.2f} ms"
    return f"{us / 1e6:.2f} s"


def fmt_mib(kib: Optional[float]) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f} MiB"


def fmt_x(v: Optional[float]) -> str:
    return "–" if v is None else f"{v:.2f}×"
