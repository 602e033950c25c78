"""Background entry points of SLA: recompute a case's clocks after its events change."""

from __future__ import annotations

from django_tasks import task

from kiwidesk.sla import services


@task()
def recompute_case(case_id: int) -> int:
    """Replace the case's clocks by those its events give now; return how many it has."""
    return services.recompute_case(case_id)


@task()
def recompute_organisation(organisation_id: int) -> int:
    """Recompute the open cases of an organisation's people (its tier changed)."""
    return services.recompute_organisation_cases(organisation_id)


@task()
def recompute_cases(case_ids: list[int]) -> int:
    """Recompute several cases: for writers that insert Events in bulk (no post_save)."""
    return sum(services.recompute_case(case_id) for case_id in case_ids)
