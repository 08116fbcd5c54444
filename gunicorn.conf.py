"""gunicorn settings that travel with the code; gunicorn reads this file from its working directory.

Command-line flags (``--workers``, ``--bind``, ...) still win over what is set here.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# gthread: a worker's threads serve several phones at once while one waits on the database.
worker_class = "gthread"
threads = 8

# /metrics under several workers (coso/metrics.py): each worker writes its figures into this
# directory and a scrape, answered by any worker, reads them all. Set before the app is
# imported (here, in the master) so that prometheus_client starts in multiprocess mode.
# Without PROMETHEUS_MULTIPROC_DIR a fresh temporary directory is used.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="coso-metrics-")
    os.environ["COSO_METRICS_DIR_MADE"] = "1"  # read again on a reload (HUP): still ours


def on_starting(server: Any) -> None:
    """Start from zero: figures a previous run left in the directory are removed."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()


def on_exit(server: Any) -> None:
    """A temporary directory made above goes with the master."""
    if os.environ.get("COSO_METRICS_DIR_MADE") == "1":
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended no longer counts in the live gauges (database connections)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Move everything the loaded app holds into the collector's permanent generation.

    The app's modules, templates and mappings are tens of thousands of long-lived
    objects; a full collection in the middle of a request walked them all (20-60 ms
    on the province dashboard). Frozen, collections walk only what requests allocate.
    """
    gc.freeze()
