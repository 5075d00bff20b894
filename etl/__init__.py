"""ETL of platform exports into the warehouse: extract, normalise, validate, load, jobs.

>>> from etl import load_paths
>>> reports = load_paths(engine, ["exports/"])      # one FileReport per file
>>> reports[0].status, reports[0].inserted, reports[0].rejected

Readers are chosen by header detection (:mod:`etl.extract`); every refused row is reported with
its file, line, column and a bilingual reason, and stored in ``rejected_row``. Only the CLI
imports this package; the library layers below never do.
"""

from __future__ import annotations

from etl.extract import READERS, EncodingRefused, MappingError, Reader, register
from etl.jobs import FileReport, assignments_from, load_paths, rejects, runs
from etl.load import Assignments
from etl.validate import Reject

__all__ = [
    "READERS",
    "Assignments",
    "EncodingRefused",
    "FileReport",
    "MappingError",
    "Reader",
    "Reject",
    "assignments_from",
    "load_paths",
    "register",
    "rejects",
    "runs",
]
