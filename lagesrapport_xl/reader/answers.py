"""A checked report's answers for a batch, without importing pydantic when it would change nothing.

The Report model (models.py) validates answers that check.py has already parsed with each field's
own type. For a value that is exactly the field's type (a finite Decimal, a str, an int that is
not a bool, a float, a date that is not a datetime) or None, pydantic gives back the very same
object, so the model adds nothing to the answers a batch keeps (`model.answers()`). Building it
anyway costs every `consolidate` the import of pydantic and the model class (0.15–0.2 s before the
first file is read, in the process that forks the readers). Any other value (none is expected) is
given to the model as before: whatever it converts or refuses, it still decides.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec


def plain_answers(spec: FormSpec, values: dict[str, Any], **base: Any) -> dict[str, Any]:
    """The answers the Report model would give for `values`; `base` are the model's own fields
    (form_version, source_file, source_sha256). Raises what the model raises."""
    if _as_the_model_keeps_them(spec, values, base):
        return {key: values[key] for key in spec.fields}  # the model's order
    from .models import report_model  # a value of another type: the model converts or refuses it

    return report_model(spec)(**values, **base).answers()


def _as_the_model_keeps_them(spec: FormSpec, values: dict[str, Any], base: dict[str, Any]) -> bool:
    if values.keys() != spec.fields.keys() or base.keys() != _BASE_FIELDS or _BASE_FIELDS & values.keys():
        return False  # a field missing, extra or twice: the model decides (extra="forbid")
    version = base["form_version"]
    if not (version is None or type(version) is str) or not all(
        type(base[key]) is str for key in ("source_file", "source_sha256")
    ):
        return False
    for key, field in spec.fields.items():
        value = values[key]
        if value is None:
            continue
        kind = field.type.python_type
        if type(value) is not kind or (kind is Decimal and not value.is_finite()):
            return False
    return True


_BASE_FIELDS = {"form_version", "source_file", "source_sha256"}
