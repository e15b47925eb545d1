"""`lagesrapport_xl.spec`, the name the docs give: the form specification lives in form/spec.py."""

from .form.spec import *  # noqa: F403
