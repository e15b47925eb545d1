"""The board report behind RAR's button: the PDF that `lagesrapport board-report INBOX --state STATE
[--register R] [--approved-only]` writes, from the intake's cache.

Written in a fresh process at the lowest priority, like the master (background.py; matplotlib's
settings are global, too), into the state folder, atomically; the route offers it for download.
"""

from __future__ import annotations

from pathlib import Path

from ..consolidate.batch import consolidate
from ..consolidate.cache import ReportCache
from .background import run_in_background
from .intake import Intake
from .overview import MasterJob, logger, master_job

BOARD_FOLDER = "styrelserapporter"


def write_board_pdf(intake: Intake, *, approved_only: bool = True) -> Path | None:
    """The board report of the inbox (None when the inbox has no file, where the command writes
    nothing either)."""
    job = master_job(intake, intake.settings.state / BOARD_FOLDER, approved_only=approved_only)  # another folder
    written = run_in_background(run_board_job, job)
    return Path(written) if written is not None else None


def run_board_job(job: MasterJob) -> str | None:
    """In the report's own process: the consolidation from the cache, then the board's PDF."""
    from ..board import write_board_report

    with ReportCache(job.cache, job.spec, warn=logger.warning) as cache:
        consolidation = consolidate([job.inbox], spec=job.spec, workers=1, register=job.register,
                                    register_file=job.register_file, cache=cache, known=job.known,
                                    receipts=job.receipts, exclude=job.pending)
    if not consolidation.files:
        return None
    target = job.target_folder / f"styrelserapport_{consolidation.started:%Y%m%d-%H%M%S-%f}.pdf"
    write_board_report(consolidation, target)
    return str(target)
