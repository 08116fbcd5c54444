"""gunicorn settings that travel with the code; gunicorn reads this file from its working directory.

Command-line flags (``--workers``, ``--bind``, ...) still win over what is set here.
"""

from __future__ import annotations

import gc
from typing import Any

# gthread: a worker's threads serve several phones at once while one waits on the database.
worker_class = "gthread"
threads = 8


def post_worker_init(worker: Any) -> None:
    """Move everything the loaded app holds into the collector's permanent generation.

    The app's modules, templates and mappings are tens of thousands of long-lived
    objects; a full collection in the middle of a request walked them all (20-60 ms
    on the province dashboard). Frozen, collections walk only what requests allocate.
    """
    gc.freeze()
