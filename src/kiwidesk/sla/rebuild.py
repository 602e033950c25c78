"""Rebuild every case's clocks, split by case id between worker processes.

Deriving clocks is Python work on one core per process; with two processes the
derivation of one id range overlaps the other's reads and writes. Each process
writes its own ranges in its own transactions (services.recompute_all), so they
never touch the same rows.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.context import ForkProcess

from django.db import connections
from django.utils import timezone

from kiwidesk.sla import services
from kiwidesk.sla.services import RebuildSummary

_POLL_SECONDS = 0.2


def rebuild_clocks(
    *,
    batch: int = services.DEFAULT_BATCH,
    workers: int = 1,
    as_of: datetime | None = None,
    progress: Callable[[int], object] | None = None,
) -> RebuildSummary:
    """Rebuild the clocks of every case in `workers` processes; `progress` gets case counts."""
    as_of = as_of or timezone.now()
    bounds = services.case_id_bounds()
    if workers == 1 or bounds is None:
        return services.recompute_all(batch=batch, as_of=as_of, progress=progress)
    started = time.monotonic()
    parts = _split(bounds, workers)
    context = multiprocessing.get_context("fork")
    reports: multiprocessing.Queue[tuple[str, object]] = context.Queue()
    # A forked child must not share the parent's open database connections.
    connections.close_all()
    processes = [
        context.Process(target=_work, args=(low, high, batch, as_of, reports))
        for low, high in parts
    ]
    for process in processes:
        process.start()
    try:
        totals = _collect(reports, processes, progress)
    except BaseException:
        # One part failed (or the user pressed Ctrl-C): stop the other, then report it.
        for process in processes:
            process.terminate()
        raise
    return RebuildSummary(
        cases=totals[0],
        events=totals[1],
        clocks=totals[2],
        seconds=time.monotonic() - started,
    )


def _split(bounds: tuple[int, int], workers: int) -> list[tuple[int, int]]:
    first, last = bounds
    size = (last - first) // workers + 1
    return [(low, min(low + size - 1, last)) for low in range(first, last + 1, size)]


def _work(
    low: int,
    high: int,
    batch: int,
    as_of: datetime,
    reports: multiprocessing.Queue[tuple[str, object]],
) -> None:
    try:
        summary = services.recompute_all(
            batch=batch,
            as_of=as_of,
            first_id=low,
            last_id=high,
            progress=lambda count: reports.put(("progress", count)),
        )
        reports.put(("done", (summary.cases, summary.events, summary.clocks)))
    except Exception as error:  # the parent reports it; a child's traceback would be lost
        reports.put(("failed", repr(error)))
    finally:
        connections.close_all()


def _collect(
    reports: multiprocessing.Queue[tuple[str, object]],
    processes: list[ForkProcess],
    progress: Callable[[int], object] | None,
) -> tuple[int, int, int]:
    totals = [0, 0, 0]
    finished = 0
    while finished < len(processes):
        try:
            kind, value = reports.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                raise RuntimeError("an SLA rebuild process died") from None
            continue
        if kind == "failed":
            raise RuntimeError(f"an SLA rebuild process failed: {value}")
        if kind == "progress" and progress is not None:
            progress(int(str(value)))
        if kind == "done" and isinstance(value, tuple):
            totals = [total + int(part) for total, part in zip(totals, value, strict=True)]
            finished += 1
    for process in processes:
        process.join()
    return totals[0], totals[1], totals[2]
