"""`lagesrapport_xl.exports`, the name the docs give: CSV and JSON exports live in consolidate/exports.py."""

from .consolidate.exports import *  # noqa: F403
from .consolidate.exports import __all__  # noqa: F401
