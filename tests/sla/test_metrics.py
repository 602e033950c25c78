"""docs/sla.md, metric by metric, as examples of the pure derivation (sla/metrics.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from kiwidesk.sla.calendar import Calendar, Interval, to_micros
from kiwidesk.sla.metrics import (
    ClockSnapshot,
    Fact,
    Metric,
    Run,
    State,
    Target,
    Targets,
    derive_clocks,
    evaluate,
)

# Monday 2 March 2026, 09:00 UTC.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = Target(seconds=3600, is_business_time=False)
CUSTOMER_THREAD, SUPPLIER_THREAD, CLINIC_THREAD = 1, 2, 3
SUPPLIER_ORG, CLINIC_ORG = 10, 11
OFFICE_HOURS = Calendar(
    "Europe/Berlin",
    {day: (Interval(time(9), time(17)),) for day in range(5)},
    frozenset({date(2026, 3, 4)}),
)


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


def moment(n: float) -> int:
    """`minute(n)` as the derivation counts: microseconds since 1970."""
    return to_micros(minute(n))


def opened(at: float = 0, *, status: str = "new", team: int | None = None) -> Fact:
    return Fact("case_opened", moment(at), status=status, team_id=team)


def customer_writes(at: float, *, automated: bool = False, message: int | None = None) -> Fact:
    return Fact(
        "message_received",
        moment(at),
        CUSTOMER_THREAD,
        "customer",
        is_automated=automated,
        message_id=message,
    )


def agent_replies(
    at: float, *, automated: bool = False, by_agent: bool = True, message: int | None = None
) -> Fact:
    return Fact(
        "message_sent",
        moment(at),
        CUSTOMER_THREAD,
        "customer",
        is_automated=automated,
        by_agent=by_agent,
        message_id=message,
    )


def note(at: float) -> Fact:
    return Fact("note_added", moment(at), 9, "internal", by_agent=True)


def status(at: float, new: str) -> Fact:
    return Fact("status_changed", moment(at), status=new, by_agent=True)


def team_changed(at: float, team: int | None) -> Fact:
    return Fact("team_changed", moment(at), team_id=team, by_agent=True)


def call_unanswered(at: float, message: int) -> Fact:
    return Fact(
        "call_logged", moment(at), CUSTOMER_THREAD, by_agent=True, message_id=message, reached=False
    )


def we_write_to(thread: int, at: float, *, automated: bool = False) -> Fact:
    return Fact(
        "message_sent", moment(at), thread, "third_party", is_automated=automated, by_agent=True
    )


def they_answer(thread: int, at: float, *, automated: bool = False) -> Fact:
    return Fact("message_received", moment(at), thread, "third_party", is_automated=automated)


def clocks(
    facts: list[Fact],
    metric: Metric,
    *,
    as_of: float,
    target: Target = HOUR,
    calendar: Calendar | None = None,
) -> list[ClockSnapshot]:
    targets = Targets({metric: target}, calendar or Calendar.always())
    return derive_clocks(facts, targets, minute(as_of))


def clock(
    facts: list[Fact],
    metric: Metric,
    *,
    as_of: float,
    target: Target = HOUR,
    calendar: Calendar | None = None,
) -> ClockSnapshot:
    (only,) = clocks(facts, metric, as_of=as_of, target=target, calendar=calendar)
    return only


def third_party_clocks(
    facts: list[Fact], *, as_of: float, organisations: dict[int, int | None]
) -> dict[int | None, ClockSnapshot]:
    targets = Targets(
        {},
        Calendar.always(),
        third_party={None: HOUR, CLINIC_ORG: Target(seconds=600, is_business_time=False)},
        thread_organisations=organisations,
    )
    return {c.thread_id: c for c in derive_clocks(facts, targets, minute(as_of))}


# first reply ---------------------------------------------------------------------------


def test_first_reply_runs_from_the_first_customer_message_to_the_first_public_agent_reply() -> None:
    facts = [opened(0), customer_writes(5), agent_replies(45)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=100)

    assert (result.state, result.started_at, result.stopped_at) == (
        State.ACHIEVED,
        minute(5),
        minute(45),
    )
    assert (result.elapsed_seconds, result.due_at, result.breached_at) == (2400, None, None)


def test_first_reply_is_active_and_due_one_target_after_the_customer_message() -> None:
    facts = [opened(0), customer_writes(5)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=20)

    assert (result.state, result.due_at, result.elapsed_seconds) == (State.ACTIVE, minute(65), 900)


def test_first_reply_not_answered_by_its_due_instant_is_breached() -> None:
    facts = [opened(0), customer_writes(5)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=65)

    assert (result.state, result.breached_at, result.breaches) == (State.BREACHED, minute(65), 1)


def test_a_reply_after_the_target_breaches_first_reply() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(90)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=100)

    assert (result.state, result.breached_at, result.stopped_at) == (
        State.BREACHED,
        minute(60),
        minute(90),
    )


def test_a_reply_exactly_at_the_target_achieves_first_reply() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(60)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=100)

    assert result.state == State.ACHIEVED


def test_an_automated_reply_does_not_achieve_first_reply() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(1, automated=True)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=30)

    assert (result.state, result.stopped_at) == (State.ACTIVE, None)


def test_an_assistant_message_without_an_agent_does_not_achieve_first_reply() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(1, by_agent=False)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=30)

    assert (result.state, result.stopped_at) == (State.ACTIVE, None)


def test_an_internal_note_does_not_achieve_first_reply() -> None:
    facts = [opened(0), customer_writes(0), note(10)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=30)

    assert (result.state, result.stopped_at) == (State.ACTIVE, None)


def test_a_call_that_reached_nobody_does_not_achieve_first_reply() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10, message=77),
        call_unanswered(10, message=77),
    ]

    result = clock(facts, Metric.FIRST_REPLY, as_of=30)

    assert (result.state, result.stopped_at) == (State.ACTIVE, None)


def test_a_message_to_a_third_party_does_not_achieve_first_reply() -> None:
    facts = [opened(0), customer_writes(0), we_write_to(SUPPLIER_THREAD, 10)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=30)

    assert (result.state, result.stopped_at) == (State.ACTIVE, None)


def test_an_automated_customer_message_does_not_start_first_reply() -> None:
    facts = [opened(0), customer_writes(0, automated=True)]

    result = clocks(facts, Metric.FIRST_REPLY, as_of=30)

    assert result == []


def test_solving_before_any_reply_stops_first_reply() -> None:
    facts = [opened(0), customer_writes(0), status(20, "solved")]

    result = clock(facts, Metric.FIRST_REPLY, as_of=100)

    assert (result.state, result.stopped_at) == (State.ACHIEVED, minute(20))


def test_a_reopen_does_not_start_first_reply_again() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10),
        status(11, "solved"),
        customer_writes(200),
        status(200, "open"),
    ]

    result = clock(facts, Metric.FIRST_REPLY, as_of=300)

    assert (result.state, result.cycles, result.stopped_at) == (State.ACHIEVED, 1, minute(10))


def test_first_reply_counts_business_hours_only() -> None:
    # Monday 17:30 Berlin (16:30 UTC) after closing; Tuesday opens at 09:00 Berlin (08:00 UTC).
    facts = [opened(450), customer_writes(450)]
    business_hour = Target(seconds=3600, is_business_time=True)

    result = clock(
        facts, Metric.FIRST_REPLY, as_of=460, target=business_hour, calendar=OFFICE_HOURS
    )

    assert (result.state, result.due_at, result.elapsed_seconds) == (
        State.ACTIVE,
        datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        0,
    )


def test_a_holiday_adds_a_whole_closed_day_to_first_reply() -> None:
    # Tuesday 16:30 Berlin (15:30 UTC): 30 minutes left; Wednesday 4 March is closed.
    facts = [opened(60 * 24 + 390), customer_writes(60 * 24 + 390)]
    business_hour = Target(seconds=3600, is_business_time=True)

    result = clock(
        facts, Metric.FIRST_REPLY, as_of=60 * 24 + 400, target=business_hour, calendar=OFFICE_HOURS
    )

    assert result.due_at == datetime(2026, 3, 5, 8, 30, tzinfo=UTC)


# next reply ----------------------------------------------------------------------------


def test_next_reply_starts_at_the_oldest_unanswered_customer_message() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10),
        customer_writes(20),
        customer_writes(50),
    ]

    result = clock(facts, Metric.NEXT_REPLY, as_of=60)

    assert (result.state, result.started_at, result.due_at) == (
        State.ACTIVE,
        minute(20),
        minute(80),
    )


def test_customer_messages_before_the_first_reply_do_not_start_next_reply() -> None:
    facts = [opened(0), customer_writes(0), customer_writes(5)]

    result = clocks(facts, Metric.NEXT_REPLY, as_of=30)

    assert result == []


def test_next_reply_counts_every_cycle_and_every_breached_one() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10),
        customer_writes(20),
        agent_replies(120),
        customer_writes(130),
        agent_replies(140),
    ]

    result = clock(facts, Metric.NEXT_REPLY, as_of=200)

    assert (result.state, result.started_at, result.cycles, result.breaches) == (
        State.ACHIEVED,
        minute(130),
        2,
        1,
    )


def test_a_customer_message_reopening_a_case_solved_without_a_reply_starts_next_reply() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(5, "solved"),
        customer_writes(100),
        status(100, "open"),
    ]

    result = clock(facts, Metric.NEXT_REPLY, as_of=110)

    assert (result.state, result.started_at) == (State.ACTIVE, minute(100))


# periodic and pausable update ------------------------------------------------------------


def test_periodic_update_runs_from_each_public_agent_reply_to_the_next() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(10), agent_replies(40)]

    result = clock(facts, Metric.PERIODIC_UPDATE, as_of=50)

    assert (result.state, result.started_at, result.due_at, result.cycles) == (
        State.ACTIVE,
        minute(40),
        minute(100),
        2,
    )


def test_pending_customer_pauses_pausable_update_but_not_periodic_update() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10),
        status(10, "pending_customer"),
    ]

    periodic = clock(facts, Metric.PERIODIC_UPDATE, as_of=100)
    pausable = clock(facts, Metric.PAUSABLE_UPDATE, as_of=100)

    assert (periodic.state, periodic.breached_at) == (State.BREACHED, minute(70))
    assert (pausable.state, pausable.due_at, pausable.elapsed_seconds) == (State.PAUSED, None, 0)


def test_pausable_update_resumes_with_its_time_when_the_customer_answers() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        agent_replies(10),
        status(30, "pending_customer"),
        customer_writes(200),
        status(200, "open"),
    ]

    result = clock(facts, Metric.PAUSABLE_UPDATE, as_of=210)

    assert (result.state, result.due_at, result.elapsed_seconds) == (
        State.ACTIVE,
        minute(240),
        1800,
    )


def test_pausable_update_keeps_running_while_we_wait_on_a_third_party() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(10), status(10, "pending_third_party")]

    result = clock(facts, Metric.PAUSABLE_UPDATE, as_of=30)

    assert (result.state, result.due_at) == (State.ACTIVE, minute(70))


def test_solving_the_case_stops_periodic_update() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(10), status(20, "solved")]

    result = clock(facts, Metric.PERIODIC_UPDATE, as_of=500)

    assert (result.state, result.stopped_at) == (State.ACHIEVED, minute(20))


# customer wait, agent work, resolution -------------------------------------------------


def test_customer_wait_time_keeps_running_while_we_wait_on_a_third_party() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_third_party")]

    result = clock(facts, Metric.CUSTOMER_WAIT, as_of=40)

    assert (result.state, result.elapsed_seconds, result.due_at) == (
        State.ACTIVE,
        2400,
        minute(60),
    )


def test_customer_wait_time_keeps_running_while_on_hold() -> None:
    facts = [opened(0), customer_writes(0), status(10, "on_hold")]

    result = clock(facts, Metric.CUSTOMER_WAIT, as_of=40)

    assert (result.state, result.elapsed_seconds) == (State.ACTIVE, 2400)


def test_customer_wait_time_is_paused_while_pending_customer() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_customer")]

    result = clock(facts, Metric.CUSTOMER_WAIT, as_of=100)

    assert (result.state, result.elapsed_seconds, result.due_at) == (State.PAUSED, 600, None)


def test_customer_wait_time_stops_when_solved() -> None:
    facts = [opened(0), customer_writes(0), status(30, "solved")]

    result = clock(facts, Metric.CUSTOMER_WAIT, as_of=100)

    assert (result.state, result.stopped_at, result.elapsed_seconds) == (
        State.ACHIEVED,
        minute(30),
        1800,
    )


def test_agent_work_time_counts_only_new_and_open() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(10, "open"),
        status(20, "pending_third_party"),
        status(50, "on_hold"),
        status(70, "open"),
    ]

    result = clock(facts, Metric.AGENT_WORK, as_of=80)

    assert (result.state, result.elapsed_seconds, result.due_at) == (
        State.ACTIVE,
        1800,
        minute(110),
    )


def test_a_paused_clock_past_its_target_stays_breached() -> None:
    facts = [opened(0), customer_writes(0), status(90, "pending_customer")]

    result = clock(facts, Metric.AGENT_WORK, as_of=100)

    assert (result.state, result.breached_at, result.elapsed_seconds) == (
        State.BREACHED,
        minute(60),
        5400,
    )


def test_resolution_is_never_paused() -> None:
    facts = [opened(0), customer_writes(0), status(5, "pending_customer")]

    result = clock(facts, Metric.RESOLUTION, as_of=30)

    assert (result.state, result.elapsed_seconds, result.due_at) == (
        State.ACTIVE,
        1800,
        minute(60),
    )


def test_a_reopen_resumes_resolution_without_counting_the_solved_time() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(20, "solved"),
        customer_writes(500),
        status(500, "open"),
    ]

    result = clock(facts, Metric.RESOLUTION, as_of=510)

    assert (result.state, result.elapsed_seconds, result.due_at, result.stopped_at) == (
        State.ACTIVE,
        1800,
        minute(540),
        None,
    )


def test_closing_a_case_stops_resolution() -> None:
    facts = [opened(0), customer_writes(0), status(20, "closed")]

    result = clock(facts, Metric.RESOLUTION, as_of=100)

    assert (result.state, result.stopped_at) == (State.ACHIEVED, minute(20))


# team ownership ------------------------------------------------------------------------


def test_team_ownership_runs_from_the_team_given_at_creation() -> None:
    facts = [opened(0, team=4), customer_writes(0)]

    result = clock(facts, Metric.TEAM_OWNERSHIP, as_of=30)

    assert (result.state, result.started_at, result.due_at) == (State.ACTIVE, minute(0), minute(60))


def test_a_case_without_a_team_owes_no_team_ownership() -> None:
    facts = [opened(0), customer_writes(0)]

    result = clocks(facts, Metric.TEAM_OWNERSHIP, as_of=30)

    assert result == []


def test_reassignment_to_another_team_restarts_team_ownership_with_the_full_target() -> None:
    facts = [opened(0, team=4), customer_writes(0), team_changed(50, 5)]

    result = clock(facts, Metric.TEAM_OWNERSHIP, as_of=70)

    assert (result.state, result.started_at, result.due_at, result.cycles) == (
        State.ACTIVE,
        minute(50),
        minute(110),
        2,
    )


def test_removing_the_team_stops_team_ownership() -> None:
    facts = [opened(0, team=4), customer_writes(0), team_changed(30, None)]

    result = clock(facts, Metric.TEAM_OWNERSHIP, as_of=70)

    assert (result.state, result.stopped_at) == (State.ACHIEVED, minute(30))


def test_solving_stops_team_ownership_and_a_reopen_starts_it_again() -> None:
    facts = [
        opened(0, team=4),
        customer_writes(0),
        status(30, "solved"),
        customer_writes(100),
        status(100, "open"),
    ]

    result = clock(facts, Metric.TEAM_OWNERSHIP, as_of=110)

    assert (result.state, result.started_at, result.cycles) == (State.ACTIVE, minute(100), 2)


# third-party response ------------------------------------------------------------------


def test_third_party_response_runs_per_thread_from_our_message_to_their_answer() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        we_write_to(SUPPLIER_THREAD, 10),
        we_write_to(CLINIC_THREAD, 12),
        they_answer(SUPPLIER_THREAD, 40),
    ]

    result = third_party_clocks(
        facts, as_of=50, organisations={SUPPLIER_THREAD: SUPPLIER_ORG, CLINIC_THREAD: CLINIC_ORG}
    )

    assert (result[SUPPLIER_THREAD].state, result[SUPPLIER_THREAD].stopped_at) == (
        State.ACHIEVED,
        minute(40),
    )
    assert (result[CLINIC_THREAD].state, result[CLINIC_THREAD].breached_at) == (
        State.BREACHED,
        minute(22),
    )


def test_a_third_party_auto_reply_does_not_answer_our_message() -> None:
    facts = [
        opened(0),
        we_write_to(SUPPLIER_THREAD, 10),
        they_answer(SUPPLIER_THREAD, 11, automated=True),
    ]

    result = third_party_clocks(facts, as_of=20, organisations={SUPPLIER_THREAD: SUPPLIER_ORG})

    assert (result[SUPPLIER_THREAD].state, result[SUPPLIER_THREAD].due_at) == (
        State.ACTIVE,
        minute(70),
    )


def test_a_second_message_before_their_answer_does_not_restart_third_party_response() -> None:
    facts = [opened(0), we_write_to(SUPPLIER_THREAD, 10), we_write_to(SUPPLIER_THREAD, 30)]

    result = third_party_clocks(facts, as_of=40, organisations={SUPPLIER_THREAD: None})

    assert (result[SUPPLIER_THREAD].started_at, result[SUPPLIER_THREAD].cycles) == (minute(10), 1)


def test_solving_the_case_stops_third_party_response() -> None:
    facts = [opened(0), we_write_to(SUPPLIER_THREAD, 10), status(20, "solved")]

    result = third_party_clocks(facts, as_of=100, organisations={SUPPLIER_THREAD: None})

    assert (result[SUPPLIER_THREAD].state, result[SUPPLIER_THREAD].stopped_at) == (
        State.ACHIEVED,
        minute(20),
    )


def test_a_third_party_without_a_target_of_its_own_gets_the_general_one() -> None:
    facts = [opened(0), we_write_to(SUPPLIER_THREAD, 10)]

    result = third_party_clocks(facts, as_of=20, organisations={SUPPLIER_THREAD: SUPPLIER_ORG})

    assert result[SUPPLIER_THREAD].due_at == minute(70)


# follow-up cadence -------------------------------------------------------------------


def test_follow_up_is_owed_one_target_after_the_case_waits_on_the_customer() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(10), status(10, "pending_customer")]

    result = clock(facts, Metric.FOLLOW_UP, as_of=30)

    assert (result.state, result.started_at, result.due_at) == (
        State.ACTIVE,
        minute(10),
        minute(70),
    )


def test_a_reminder_restarts_the_follow_up_cycle() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(10, "pending_customer"),
        agent_replies(70, automated=True, by_agent=False),
    ]

    result = clock(facts, Metric.FOLLOW_UP, as_of=80)

    assert (result.state, result.started_at, result.due_at, result.cycles) == (
        State.ACTIVE,
        minute(70),
        minute(130),
        2,
    )


def test_a_follow_up_not_sent_by_its_due_instant_is_breached() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_customer")]

    result = clock(facts, Metric.FOLLOW_UP, as_of=80)

    assert (result.state, result.breached_at) == (State.BREACHED, minute(70))


def test_the_customer_answering_ends_the_follow_up() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(10, "pending_customer"),
        customer_writes(30),
        status(30, "open"),
    ]

    result = clock(facts, Metric.FOLLOW_UP, as_of=100)

    assert (result.state, result.stopped_at) == (State.ACHIEVED, minute(30))


def reminder(at: float) -> Fact:
    return agent_replies(at, automated=True, by_agent=False)


def follow_up_with_limit(facts: list[Fact], *, as_of: float, limit: int) -> list[ClockSnapshot]:
    targets = Targets({Metric.FOLLOW_UP: HOUR}, Calendar.always(), follow_up_limit=limit)
    return derive_clocks(facts, targets, minute(as_of))


def test_no_follow_up_cycle_starts_after_the_last_reminder() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_customer"), reminder(70)]
    facts.append(reminder(130))

    (result,) = follow_up_with_limit(facts, as_of=400, limit=2)

    assert (result.state, result.stopped_at, result.due_at, result.cycles) == (
        State.ACHIEVED,
        minute(130),
        None,
        2,
    )


def test_an_agent_reply_does_not_count_towards_the_follow_up_limit() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_customer"), agent_replies(40)]

    (result,) = follow_up_with_limit(facts, as_of=50, limit=1)

    assert (result.state, result.started_at, result.due_at) == (
        State.ACTIVE,
        minute(40),
        minute(100),
    )


def test_leaving_pending_and_coming_back_starts_the_follow_up_count_again() -> None:
    facts = [
        opened(0),
        customer_writes(0),
        status(10, "pending_customer"),
        reminder(70),
        customer_writes(80),
        status(80, "open"),
        status(90, "pending_customer"),
    ]

    (result,) = follow_up_with_limit(facts, as_of=100, limit=1)

    assert (result.state, result.started_at, result.due_at, result.cycles) == (
        State.ACTIVE,
        minute(90),
        minute(150),
        2,
    )


def test_a_follow_up_limit_of_zero_owes_no_follow_up_at_all() -> None:
    facts = [opened(0), customer_writes(0), status(10, "pending_customer")]

    result = follow_up_with_limit(facts, as_of=100, limit=0)

    assert result == []


# derivation as a whole ---------------------------------------------------------------


def test_only_metrics_with_a_target_get_a_clock() -> None:
    facts = [opened(0), customer_writes(0)]
    targets = Targets({Metric.FIRST_REPLY: HOUR, Metric.RESOLUTION: HOUR}, Calendar.always())

    result = derive_clocks(facts, targets, minute(10))

    assert [c.metric for c in result] == [Metric.FIRST_REPLY, Metric.RESOLUTION]


def test_events_after_the_instant_asked_about_are_left_out() -> None:
    facts = [opened(0), customer_writes(0), agent_replies(30)]

    result = clock(facts, Metric.FIRST_REPLY, as_of=20)

    assert (result.state, result.stopped_at, result.elapsed_seconds) == (
        State.ACTIVE,
        None,
        1200,
    )


def test_a_run_stopped_at_closing_time_with_its_target_used_up_is_achieved() -> None:
    # Monday 16:00-17:00 Berlin (15:00-16:00 UTC) is exactly one business hour.
    run = Run(moment(360), ((moment(360), moment(420)),), moment(420))
    business_hour = Target(seconds=3600, is_business_time=True)

    result = evaluate(run, business_hour, OFFICE_HOURS, moment(600))

    assert (result.state, result.elapsed_seconds) == (State.ACHIEVED, 3600)


def test_giving_a_team_to_a_case_without_one_starts_team_ownership() -> None:
    facts = [opened(0), customer_writes(0), team_changed(20, 4)]

    result = clock(facts, Metric.TEAM_OWNERSHIP, as_of=30)

    assert (result.state, result.started_at, result.cycles) == (State.ACTIVE, minute(20), 1)


def test_a_third_party_with_no_target_of_its_own_and_no_general_one_gets_no_clock() -> None:
    facts = [opened(0), we_write_to(SUPPLIER_THREAD, 10), we_write_to(CLINIC_THREAD, 10)]
    targets = Targets(
        {},
        Calendar.always(),
        third_party={CLINIC_ORG: HOUR},
        thread_organisations={SUPPLIER_THREAD: SUPPLIER_ORG, CLINIC_THREAD: CLINIC_ORG},
    )

    result = derive_clocks(facts, targets, minute(20))

    assert [(c.metric, c.thread_id) for c in result] == [
        (Metric.THIRD_PARTY_RESPONSE, CLINIC_THREAD)
    ]


def test_a_pause_in_business_hours_moves_the_due_instant_by_the_business_time_paused() -> None:
    # Berlin is UTC+1: working Monday 11:00-12:00, pending until Tuesday 11:00, working again.
    facts = [
        opened(60),
        customer_writes(60),
        status(60, "open"),
        status(120, "pending_customer"),
        customer_writes(60 * 24 + 60),
        status(60 * 24 + 60, "open"),
    ]
    two_business_hours = Target(seconds=7200, is_business_time=True)

    result = clock(
        facts,
        Metric.CUSTOMER_WAIT,
        as_of=60 * 24 + 70,
        target=two_business_hours,
        calendar=OFFICE_HOURS,
    )

    # One business hour used on Monday: the second is Tuesday 11:00-12:00 Berlin.
    assert (result.state, result.due_at, result.elapsed_seconds) == (
        State.ACTIVE,
        datetime(2026, 3, 3, 11, 0, tzinfo=UTC),
        4200,
    )
