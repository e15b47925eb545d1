"""`lagesrapport_xl.register`, the name the docs give: the register is read by reader/register.py and
pre-filled templates are written by template/prefill.py."""

from .reader.register import *  # noqa: F403
from .template.prefill import write_prefilled_templates, write_register_workbook  # noqa: F401
