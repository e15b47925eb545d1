"""lagesrapport_xl: RAR's Lägesrapport as a locked Excel template, a validating reader and a
consolidated master workbook. The core never imports xlwings (see lagesrapport_xl.excel)."""

from .spec import FormSpec, SpecError, default_spec, load_spec
from .template import write_template

__version__ = "0.1.0"

__all__ = ["FormSpec", "SpecError", "default_spec", "load_spec", "write_template", "__version__"]
