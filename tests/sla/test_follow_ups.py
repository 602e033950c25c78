"""While a case waits on its customer, reminders go out on the cadence, then it is solved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kiwidesk.accounts.models import Agent, Team
from kiwidesk.cases import services as cases
from kiwidesk.cases.models import (
    Case,
    Channel,
    Direction,
    EventKind,
    Message,
    OutboxItem,
    Priority,
    Status,
)
from kiwidesk.channels.common import OutsideMessagingWindowError
from kiwidesk.sla import follow_ups, timers
from kiwidesk.sla.metrics import Metric
from kiwidesk.sla.models import Clock, Policy, Target
from kiwidesk.sla.tasks import fire_timer, recompute_case
from tests.factories.cases import customer_thread, make_case

OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PENDING_AT = OPENED_AT + timedelta(minutes=5)
HOUR = timedelta(hours=1)
FIRE_TIMER = fire_timer.module_path
WINDOW_REFUSAL = str(
    OutsideMessagingWindowError(
        "The customer last wrote more than 24 hours ago, so WhatsApp allows only an "
        "approved template message until they write again."
    )
)


@pytest.fixture
def policy(db: None) -> Policy:
    policy = Policy.objects.create(
        name="Standard",
        follow_up_limit=2,
        follow_up_message="Are you still there?",
        solve_notice="We have solved this case for now.",
        warn_minutes_before=10,
        breach_raises_priority=True,
    )
    Target.objects.create(
        policy=policy, metric=Metric.FOLLOW_UP, priority=Priority.NORMAL, minutes=60,
        is_business_time=False,
    )  # fmt: skip
    return policy


@pytest.fixture
def solving_policy(policy: Policy) -> Policy:
    Policy.objects.filter(pk=policy.pk).update(solves_after_follow_ups=True)
    return policy


def waiting_case(agent: Agent, team: Team, *, channel: str = Channel.EMAIL) -> Case:
    """A case the agent answered with a question, then set pending-customer."""
    with time_machine.travel(OPENED_AT, tick=False):
        case = make_case(team=team, assignee=agent, channel=channel)
    with time_machine.travel(PENDING_AT, tick=False):
        cases.reply(agent, customer_thread(case), text="Which browser do you use?")
        cases.update_case(agent, case, {"status": Status.PENDING_CUSTOMER})
        recompute_case.call(case.pk)
    return case


def work_until(case: Case, until: datetime) -> list[bool]:
    """What the worker does up to `until`: each timer task at its instant, then the
    recompute its Events queue (which queues the next timer)."""
    results = []
    while True:
        due = DBTaskResult.objects.filter(
            task_path=FIRE_TIMER, status=TaskResultStatus.READY, run_after__lte=until
        )
        row = due.order_by("run_after", "pk").first()
        if row is None:
            return results
        with time_machine.travel(row.run_after, tick=False):
            results.append(fire_timer.call(*row.args_kwargs["args"]))
            DBTaskResult.objects.filter(pk=row.pk).update(status=TaskResultStatus.SUCCESSFUL)
            recompute_case.call(case.pk)


def sent_to_customer(case: Case) -> list[tuple[str, bool, datetime]]:
    messages = Message.objects.filter(case=case, direction=Direction.OUTBOUND).order_by("pk")
    return [(m.body_text, m.is_automated, m.created_at) for m in messages]


def follow_up_events(case: Case) -> list[tuple[str, dict[str, object]]]:
    found = case.events.filter(kind__in=follow_ups.KINDS).order_by("created_at", "pk")
    return [(event.kind, event.payload) for event in found]


def follow_up_clock(case: Case) -> Clock:
    return Clock.objects.get(case=case, metric=Metric.FOLLOW_UP)


def test_a_reminder_goes_to_the_customer_by_email_when_the_follow_up_comes_due(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + HOUR)

    case.refresh_from_db()
    reminder = Message.objects.get(case=case, is_automated=True)
    assert sent_to_customer(case)[1:] == [("Are you still there?", True, PENDING_AT + HOUR)]
    assert (reminder.thread, reminder.author_agent, reminder.delivery_status) == (
        customer_thread(case),
        None,
        "pending",
    )
    assert OutboxItem.objects.filter(message=reminder).count() == 1
    assert case.status == Status.PENDING_CUSTOMER


def test_a_reminder_is_recorded_as_one_and_is_no_breach(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + HOUR)

    case.refresh_from_db()
    assert follow_up_events(case) == [
        (
            EventKind.FOLLOW_UP_SENT,
            {
                "metric": "follow_up",
                "due_at": (PENDING_AT + HOUR).isoformat(),
                "reminder": 1,
                "limit": 2,
            },
        )
    ]
    assert case.events.filter(kind__in=[EventKind.SLA_BREACHED, EventKind.SLA_WARNING]).count() == 0
    assert case.priority == Priority.NORMAL


def test_a_follow_up_clock_queues_no_warning(policy: Policy, agent: Agent, team: Team) -> None:
    case = waiting_case(agent, team)

    queued = DBTaskResult.objects.filter(task_path=FIRE_TIMER, status=TaskResultStatus.READY)

    assert [(row.args_kwargs["args"][:4], row.run_after) for row in queued] == [
        ([case.pk, "follow_up", None, "breach"], PENDING_AT + HOUR)
    ]


def test_a_reminder_is_no_agent_reply_for_the_reply_metrics(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Target.objects.create(
        policy=policy, metric=Metric.PERIODIC_UPDATE, priority=Priority.NORMAL, minutes=600,
        is_business_time=False,
    )  # fmt: skip
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + HOUR)

    update = Clock.objects.get(case=case, metric=Metric.PERIODIC_UPDATE)
    assert (update.started_at, update.cycles, update.state) == (PENDING_AT, 1, "active")


def test_the_next_reminder_comes_one_cycle_after_the_last(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + 2 * HOUR)

    assert [at for _, automated, at in sent_to_customer(case) if automated] == [
        PENDING_AT + HOUR,
        PENDING_AT + 2 * HOUR,
    ]


def test_after_the_last_reminder_the_case_is_solved_with_the_notice(
    solving_policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + 10 * HOUR)

    case.refresh_from_db()
    assert sent_to_customer(case)[1:] == [
        ("Are you still there?", True, PENDING_AT + HOUR),
        ("Are you still there?", True, PENDING_AT + 2 * HOUR),
        ("We have solved this case for now.", True, PENDING_AT + 3 * HOUR),
    ]
    assert (case.status, case.solved_at) == (Status.SOLVED, PENDING_AT + 3 * HOUR)
    assert follow_up_events(case)[-1] == (
        EventKind.SOLVED_AFTER_FOLLOW_UPS,
        {"metric": "follow_up", "due_at": (PENDING_AT + 3 * HOUR).isoformat(), "reminders": 2},
    )
    assert case.events.get(kind=EventKind.STATUS_CHANGED, payload__new="solved").actor is None


def test_once_solved_after_the_reminders_the_clock_reads_achieved(
    solving_policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + 10 * HOUR)

    clock = follow_up_clock(case)
    assert (clock.state, clock.stopped_at, clock.cycles, clock.breaches) == (
        "achieved",
        PENDING_AT + 3 * HOUR,
        3,
        0,
    )


def test_after_the_last_reminder_nothing_more_is_sent_when_the_policy_does_not_solve(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)

    work_until(case, PENDING_AT + 10 * HOUR)

    case.refresh_from_db()
    clock = follow_up_clock(case)
    assert len(sent_to_customer(case)) == 3
    assert case.status == Status.PENDING_CUSTOMER
    assert (clock.state, clock.stopped_at, clock.due_at) == (
        "achieved",
        PENDING_AT + 2 * HOUR,
        None,
    )
    assert (
        DBTaskResult.objects.filter(task_path=FIRE_TIMER, status=TaskResultStatus.READY).count()
        == 0
    )


def test_the_customer_answering_in_between_starts_the_count_again(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Policy.objects.filter(pk=policy.pk).update(follow_up_limit=1)
    case = waiting_case(agent, team)
    work_until(case, PENDING_AT + HOUR)
    with time_machine.travel(PENDING_AT + 2 * HOUR, tick=False):
        cases.receive_message(customer_thread(case), text="Firefox, sorry for the wait.")
    pending_again = PENDING_AT + 3 * HOUR
    with time_machine.travel(pending_again, tick=False):
        cases.update_case(agent, case, {"status": Status.PENDING_CUSTOMER})
        recompute_case.call(case.pk)

    work_until(case, pending_again + 10 * HOUR)

    sent = [(kind, payload["reminder"]) for kind, payload in follow_up_events(case)]
    assert sent == [(EventKind.FOLLOW_UP_SENT, 1), (EventKind.FOLLOW_UP_SENT, 1)]
    assert [at for _, automated, at in sent_to_customer(case) if automated] == [
        PENDING_AT + HOUR,
        pending_again + HOUR,
    ]


def test_a_reminder_whatsapp_refuses_after_the_window_is_recorded_with_the_reason(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Target.objects.filter(policy=policy).update(minutes=25 * 60)
    case = waiting_case(agent, team, channel=Channel.WHATSAPP)
    due_at = PENDING_AT + 25 * HOUR

    results = work_until(case, due_at + 10 * HOUR)

    case.refresh_from_db()
    assert results == [True]
    assert follow_up_events(case) == [
        (
            EventKind.FOLLOW_UP_REFUSED,
            {
                "metric": "follow_up",
                "due_at": due_at.isoformat(),
                "what": "reminder",
                "reason": WINDOW_REFUSAL,
            },
        )
    ]
    assert len(sent_to_customer(case)) == 1
    assert case.status == Status.PENDING_CUSTOMER


def test_a_refused_reminder_is_not_tried_again_after_a_recompute(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Target.objects.filter(policy=policy).update(minutes=25 * 60)
    case = waiting_case(agent, team, channel=Channel.WHATSAPP)
    due_at = PENDING_AT + 25 * HOUR
    work_until(case, due_at)
    timer = timers.timer_from_args(case.pk, "follow_up", None, "breach", due_at.isoformat())

    fired = timers.fire(timer, now=due_at + 2 * HOUR)

    assert fired is False
    assert len(follow_up_events(case)) == 1


def test_a_solve_notice_whatsapp_refuses_leaves_the_case_pending(
    policy: Policy, agent: Agent, team: Team
) -> None:
    Policy.objects.filter(pk=policy.pk).update(follow_up_limit=0, solves_after_follow_ups=True)
    Target.objects.filter(policy=policy).update(minutes=25 * 60)
    case = waiting_case(agent, team, channel=Channel.WHATSAPP)

    work_until(case, PENDING_AT + 30 * HOUR)

    case.refresh_from_db()
    assert [(kind, payload["what"]) for kind, payload in follow_up_events(case)] == [
        (EventKind.FOLLOW_UP_REFUSED, "solve notice")
    ]
    assert case.status == Status.PENDING_CUSTOMER


def test_a_reminder_whose_task_runs_twice_and_the_sweep_too_is_sent_once(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)
    timers.schedule(timers.case_timers(case.pk))
    due_at = PENDING_AT + HOUR

    results = work_until(case, due_at)
    swept = timers.sweep(now=due_at + timedelta(seconds=30))

    assert (results, swept) == ([True, False], 0)
    assert len(follow_up_events(case)) == 1
    assert Message.objects.filter(case=case, is_automated=True).count() == 1


def test_a_reminder_lost_with_its_task_goes_out_with_the_sweep(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    late = PENDING_AT + HOUR + timedelta(minutes=30)

    fired = timers.sweep(now=late)

    assert fired == 1
    assert sent_to_customer(case)[1:] == [("Are you still there?", True, late)]


def test_a_reminder_sent_late_leaves_its_cycle_breached(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)
    DBTaskResult.objects.filter(task_path=FIRE_TIMER).delete()
    late = PENDING_AT + HOUR + timedelta(minutes=30)
    timers.sweep(now=late)

    with time_machine.travel(late, tick=False):
        recompute_case.call(case.pk)

    clock = follow_up_clock(case)
    assert (clock.state, clock.started_at, clock.cycles, clock.breaches) == (
        "active",
        late,
        2,
        1,
    )


def test_nothing_is_sent_for_a_case_the_customer_answered_before_its_recompute(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team)
    with time_machine.travel(PENDING_AT + HOUR - timedelta(minutes=1), tick=False):
        cases.receive_message(customer_thread(case), text="Firefox.")

    results = work_until(case, PENDING_AT + HOUR)

    assert results == [False]
    assert follow_up_events(case) == []


def test_a_case_with_no_thread_to_write_on_records_why_nothing_went_out(
    policy: Policy, agent: Agent, team: Team
) -> None:
    case = waiting_case(agent, team, channel=Channel.PHONE)

    work_until(case, PENDING_AT + HOUR)

    assert follow_up_events(case) == [
        (
            EventKind.FOLLOW_UP_REFUSED,
            {
                "metric": "follow_up",
                "due_at": (PENDING_AT + HOUR).isoformat(),
                "what": "reminder",
                "reason": "The case has no customer thread to write on.",
            },
        )
    ]


def test_the_timeline_says_which_reminder_went_out(
    solving_policy: Policy, agent: Agent, team: Team
) -> None:
    from kiwidesk.web.templatetags.kiwidesk_web import event_summary

    case = waiting_case(agent, team)
    work_until(case, PENDING_AT + 10 * HOUR)

    lines = [event_summary(event) for event in case.events.filter(kind__in=follow_ups.KINDS)]

    assert lines == [
        "Reminder 1 of 2 sent to the customer",
        "Reminder 2 of 2 sent to the customer",
        "Solved with a notice after 2 unanswered reminders",
    ]


def test_the_timeline_says_why_a_reminder_was_not_sent(
    policy: Policy, agent: Agent, team: Team
) -> None:
    from kiwidesk.web.templatetags.kiwidesk_web import event_summary

    case = waiting_case(agent, team, channel=Channel.PHONE)
    work_until(case, PENDING_AT + HOUR)

    refusal = case.events.get(kind=EventKind.FOLLOW_UP_REFUSED)

    assert event_summary(refusal) == (
        "Reminder not sent: The case has no customer thread to write on."
    )


def test_a_reminder_whose_firing_died_after_its_claim_goes_out_once_on_the_retry(
    policy: Policy, agent: Agent, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = waiting_case(agent, team)
    due_at = PENDING_AT + HOUR
    with monkeypatch.context() as patched:
        patched.setattr(follow_ups.events, "follow_up_sent", worker_killed)
        died = work_until(case, due_at)
    nothing_after_dying = sent_to_customer(case)[1:]

    retried = work_until(case, due_at + timers.RETRY_AFTER)

    assert (died, nothing_after_dying) == ([False], [])
    assert retried == [True]
    assert sent_to_customer(case)[1:] == [
        ("Are you still there?", True, due_at + timers.RETRY_AFTER)
    ]


def worker_killed(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the worker was killed after the claim")
