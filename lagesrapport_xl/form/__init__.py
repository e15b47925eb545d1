"""The form as data: form.toml, the specification built from it, the answer types, the conditions,
the control sheet's texts and the facts carried from the previous report.

Every other layer asks this one where a question sits, what it is called and what it accepts.
Imports only common/; nothing here reads or writes a workbook.
"""

from .spec import FormSpec, SpecError, default_spec, load_spec

__all__ = ["FormSpec", "SpecError", "default_spec", "load_spec"]
