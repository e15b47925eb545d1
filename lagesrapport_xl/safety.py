"""`lagesrapport_xl.safety`, the name the docs give: the safety check lives in reader/safety/."""

from .reader.safety import *  # noqa: F403
