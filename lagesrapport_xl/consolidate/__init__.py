"""A folder of reports into one consolidation: find the files, read them in parallel, decide which
report counts for each insats and period, match them against RAR's register, and build the master's
tables (plain rows; pandas DataFrames only on request) and their CSV and JSON exports.

Imports reader/, form/ and common/; never the template or the master writer.
"""

from .batch import *  # noqa: F403  (the public names: consolidate, Consolidation, FileOutcome, …)
from .batch import __all__  # noqa: F401
