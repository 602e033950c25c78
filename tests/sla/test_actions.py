"""What a policy does on a warning or a breach: each change through the case services."""

from __future__ import annotations

from typing import Any

import pytest

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases.models import EventKind, Priority
from kiwidesk.sla import actions
from kiwidesk.sla.actions import Escalation, Firing
from kiwidesk.sla.models import Policy
from tests.factories.accounts import AgentFactory
from tests.factories.cases import make_case

NOTHING = Escalation(notifies=False, raises_priority=False, team=None, assignee=None, tag="")


def test_reassigning_moves_the_case_and_records_each_change(
    agent: Agent, teammate: Agent, team: Team, other_team: Team
) -> None:
    case = make_case(team=team, assignee=agent)
    escalation = Escalation(
        notifies=False, raises_priority=False, team=other_team, assignee=teammate, tag=""
    )

    done = actions.perform(case, escalation)

    case.refresh_from_db()
    assert (case.team, case.assignee) == (other_team, teammate)
    assert done == [f"moved to {other_team.name}", "assigned to Agent Two"]
    kinds = set(case.events.values_list("kind", flat=True))
    assert {EventKind.TEAM_CHANGED, EventKind.ASSIGNED} <= kinds


def test_an_urgent_case_keeps_its_priority(agent: Agent) -> None:
    case = make_case(priority=Priority.URGENT)
    escalation = Escalation(notifies=False, raises_priority=True, team=None, assignee=None, tag="")

    done = actions.perform(case, escalation)

    assert done == []
    assert not case.events.filter(kind=EventKind.PRIORITY_CHANGED).exists()


def test_a_tag_the_case_already_has_is_not_added_again(db: None) -> None:
    case = make_case(tags=["sla-breached"])
    escalation = Escalation(
        notifies=False, raises_priority=False, team=None, assignee=None, tag="sla-breached"
    )

    done = actions.perform(case, escalation)

    assert done == []


def test_an_escalation_without_actions_changes_nothing(db: None) -> None:
    case = make_case()
    events_before = case.events.count()

    done = actions.perform(case, NOTHING)

    assert (done, case.events.count()) == ([], events_before)


def test_notices_go_to_the_assignee_and_the_active_team_leads_once(
    agent: Agent, team: Team
) -> None:
    AgentFactory(email="lead@kiwidesk.test", role="lead", teams=[team])
    AgentFactory(email="gone@kiwidesk.test", role="lead", teams=[team], is_active=False)
    AgentFactory(email="member@kiwidesk.test", role="agent", teams=[team])
    agent.role = "lead"
    agent.save()
    case = make_case(team=team, assignee=agent)

    assert actions.recipients(case) == ["agent@kiwidesk.test", "lead@kiwidesk.test"]


def test_a_case_with_nobody_to_tell_gets_no_notice(db: None) -> None:
    case = make_case()

    assert actions.notice(case, "First reply breached") is None


def test_a_notice_names_the_case_but_not_its_content(agent: Agent) -> None:
    case = make_case(assignee=agent, subject="Diagnosis details")

    notice = actions.notice(case, "First reply breached")

    assert notice is not None
    assert notice.subject == f"[Kiwidesk] Case #{case.pk}: First reply breached"
    assert "Diagnosis" not in notice.body


def test_a_mail_server_that_is_down_is_logged_not_raised(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_BACKEND = "tests.sla.test_actions.RefusingBackend"
    notice = actions.Notice(["agent@kiwidesk.test"], "subject", "body")

    actions.notify(notice)

    assert [r.getMessage() for r in caplog.records] == [
        "SLA notice to ['agent@kiwidesk.test'] failed"
    ]


class RefusingBackend:
    def __init__(self, **kwargs: object) -> None:
        self.options = kwargs

    def send_messages(self, messages: object) -> int:
        raise ConnectionRefusedError("the mail server is down")


def test_the_policy_says_what_a_warning_and_a_breach_do(team: Team) -> None:
    policy = Policy(
        warning_notifies=True, warning_tag="at-risk", breach_raises_priority=True, breach_team=team
    )

    warning, breach = (
        actions.escalation(policy, Firing.WARNING),
        actions.escalation(policy, Firing.BREACH),
    )

    assert warning == Escalation(
        notifies=True, raises_priority=False, team=None, assignee=None, tag="at-risk"
    )
    assert breach == Escalation(
        notifies=False, raises_priority=True, team=team, assignee=None, tag=""
    )
