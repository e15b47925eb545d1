"""Numbers and dates as the board reads them in Swedish: "1 234 567 kr", "49 %", "2024-06-30"."""

from __future__ import annotations

import datetime as dt
from typing import Any

DASH = "–"


def grouped(value: float) -> str:
    """12345.6 → '12 346' (a space between thousands, no öre)."""
    return f"{round(value):,}".replace(",", " ").replace("-", "−")


def kr(value: float | None) -> str:
    return DASH if value is None else f"{grouped(value)} kr"


def kr_short(value: float) -> str:
    """A chart's axis: '1,5 mnkr', '500 tkr', '0'."""
    if value == 0:
        return "0"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".").replace(".", ",") + " mnkr"
    return f"{grouped(value / 1000)} tkr"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{round(value * 100)} %"


def date(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return DASH if value in (None, "") else str(value)


def count(value: int | None) -> str:
    return DASH if value is None else str(value)


def planned(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return DASH
    if low is None or high is None or low == high:
        return str(low if high is None else high)
    return f"{low}{DASH}{high}"
