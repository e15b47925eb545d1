"""The package's version, written into the master's Om sheet and the JSON exports; kept equal to
pyproject.toml's by tests/test_architecture.py."""

__version__ = "0.2.0"
PROGRAM = "lagesrapport_xl"
