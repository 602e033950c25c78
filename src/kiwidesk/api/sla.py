"""SLA clocks: the clocks a case owes, most urgent first."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kiwidesk.api.auth import current_agent
from kiwidesk.api.schemas import ERRORS
from kiwidesk.privacy.access import Purpose, access_case
from kiwidesk.sla.metrics import Metric, State
from kiwidesk.sla.models import Clock
from kiwidesk.sla.queries import case_clocks, clock_name

router = Router(tags=["sla"])


class ClockThreadOut(Schema):
    id: int
    party: str
    contact: str = Field(description="The third party's name.")
    organisation: str | None


class ClockOut(Schema):
    metric: Metric
    name: str = Field(description='As the case page names it: "Third-party response — …".')
    state: State
    started_at: datetime
    due_at: datetime | None = Field(
        description="When the running cycle breaches (or breached); none while paused or met."
    )
    breached_at: datetime | None
    stopped_at: datetime | None
    elapsed_seconds: int = Field(description="Counted in the target's business or calendar time.")
    cycles: int
    breaches: int
    policy_id: int
    thread: ClockThreadOut | None = Field(description="Third-party response clocks only.")
    computed_at: datetime

    @staticmethod
    def resolve_name(clock: Clock) -> str:
        return clock_name(clock)

    @staticmethod
    def resolve_thread(clock: Clock) -> dict[str, object] | None:
        thread = clock.thread
        if thread is None:
            return None
        contact = thread.contact
        organisation = contact.organisation if contact is not None else None
        return {
            "id": thread.pk,
            "party": thread.party,
            "contact": str(contact) if contact is not None else "",
            "organisation": organisation.name if organisation is not None else None,
        }


@router.get(
    "/cases/{case_id}/clocks",
    response={200: list[ClockOut], **ERRORS},
    summary="The SLA clocks of a case",
)
def list_clocks(request: HttpRequest, case_id: int) -> list[Clock]:
    """Breached first, then running by due instant, then paused, then met."""
    case = access_case(current_agent(request), case_id, Purpose.VIEW)
    return case_clocks(case)
