"""What every layer uses and no layer owns: the Issue type and its severities, atomic file writes,
a file's SHA-256 (digest.py), the garbage collector paused for a batch (memory.py).

Bottom of the package: imports nothing from lagesrapport_xl. Anything that two layers need lives
here (or in form/, when it is a fact of the form), never in the layer that happened to need it first.
"""
