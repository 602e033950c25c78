"""Background entry points of SLA: recompute a case's clocks, fire their timers, sweep."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from kiwidesk.cases.models import OPEN_STATUSES, Case
from kiwidesk.sla import services, timers


@task()
def recompute_case(case_id: int) -> int:
    """Replace the case's clocks by those its events give now; return how many it has.

    Timers are queued for the due instants this recompute added or moved (after its
    commit: the queue may be another database).
    """
    before = timers.case_timers(case_id)
    count = services.recompute_case(case_id)
    timers.schedule_changes(before, timers.case_timers(case_id))
    return count


@task()
def recompute_organisation(organisation_id: int) -> int:
    """Recompute the open cases of an organisation's people (its tier changed).

    Each case as `recompute_case` does it, so a tier's new targets get their timers.
    """
    case_ids = list(
        Case.objects.filter(
            customer__organisation_id=organisation_id, status__in=OPEN_STATUSES
        ).values_list("pk", flat=True)
    )
    for case_id in case_ids:
        recompute_case.call(case_id)
    return len(case_ids)


@task()
def recompute_cases(case_ids: list[int]) -> int:
    """Recompute several cases: for writers that insert Events in bulk (no post_save)."""
    return sum(recompute_case.call(case_id) for case_id in case_ids)


@task()
def fire_timer(case_id: int, metric: str, thread_id: int | None, firing: str, due_at: str) -> bool:
    """Fire one clock's warning or breach if it is still due at `due_at`; return whether it did."""
    return timers.fire(timers.timer_from_args(case_id, metric, thread_id, firing, due_at))


@task()
def sweep_timers() -> int:
    """Fire what is overdue and lost, then come back in `timers.SWEEP_EVERY`."""
    fired = timers.sweep()
    sweep_timers.using(run_after=timezone.now() + timers.SWEEP_EVERY).enqueue()
    return fired
