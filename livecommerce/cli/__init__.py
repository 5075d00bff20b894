"""The ``livecommerce`` command: a thin skin over the library.

Each command parses its options, calls one library function and renders the result; errors
from the library become short hints. Every reporting command takes ``--json`` and then prints
exactly one JSON document on standard output.
"""

from __future__ import annotations

from livecommerce.cli import core as _core  # noqa: F401  (registers commands)
from livecommerce.cli import etl as _etl  # noqa: F401
from livecommerce.cli import export as _export  # noqa: F401
from livecommerce.cli import forecast as _forecast  # noqa: F401
from livecommerce.cli import plan as _plan  # noqa: F401
from livecommerce.cli import recommend as _recommend  # noqa: F401
from livecommerce.cli import report as _report  # noqa: F401
from livecommerce.cli import sample as _sample  # noqa: F401
from livecommerce.cli import serve as _serve  # noqa: F401
from livecommerce.cli import users as _users  # noqa: F401
from livecommerce.cli._base import main

__all__ = ["main"]
