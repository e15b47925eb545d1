"""The conditions that make an answer required, in Python.

form.toml declares each condition with its Swedish text and its Excel formula (for the template's
highlighting and live status cell); this module is the same condition over parsed values, used by
the reader's rules and for the template's cached status value. A test recalculates the template in
LibreOffice and checks that Excel formula and Python agree.
"""

from __future__ import annotations

from typing import Any, Callable

Values = dict[str, Any]


def _below_plan(values: Values) -> bool:
    for actual, minimum in (("women_actual", "women_planned_min"), ("men_actual", "men_planned_min")):
        a, m = values.get(actual), values.get(minimum)
        if isinstance(a, int) and isinstance(m, int) and a < m:
            return True
    return False


CONDITIONS: dict[str, Callable[[Values], bool]] = {
    "budget_not_on_track": lambda values: values.get("budget_on_track") == "Nej",
    "individual_oriented": lambda values: values.get("individual_oriented") == "Ja",
    "below_plan": _below_plan,
}


def holds(condition: str, values: Values) -> bool:
    """Whether `condition` holds for parsed values; unknown conditions are a programming error."""
    return CONDITIONS[condition](values)
