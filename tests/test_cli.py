from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kiwidesk.accounts.models import Agent
from kiwidesk.accounts.services import agent_for_token
from kiwidesk.cases.models import Case, Message
from kiwidesk.cli import main, prepare_demo


@pytest.fixture
def data_dir(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    return tmp_path


@pytest.mark.django_db
def test_createagent_with_a_password_lets_the_agent_log_in(client):
    main(["createagent", "lead@kiwidesk.test", "--name", "Support Lead", "--password", "x-7Gq!pz"])

    assert client.login(username="lead@kiwidesk.test", password="x-7Gq!pz")


@pytest.mark.django_db
def test_createagent_without_a_password_prints_a_generated_one(client, capsys):
    main(["createagent", "lead@kiwidesk.test"])

    password = capsys.readouterr().out.splitlines()[-1].removeprefix("Password: ")
    assert client.login(username="lead@kiwidesk.test", password=password)


@pytest.mark.django_db
def test_createagent_admin_may_use_the_admin_site():
    main(["createagent", "root@kiwidesk.test", "--admin", "--password", "x-7Gq!pz"])

    agent = Agent.objects.get(email="root@kiwidesk.test")
    assert (agent.is_staff, agent.is_superuser) == (True, True)


@pytest.mark.django_db
def test_createagent_gives_the_clearance_asked_for():
    main(
        [
            "createagent",
            "cleared@kiwidesk.test",
            "--clearance",
            "clinical",
            "--password",
            "x-7Gq!pz",
        ]
    )

    assert Agent.objects.get(email="cleared@kiwidesk.test").clearance == "clinical"


@pytest.mark.django_db
def test_createagent_twice_is_a_one_line_error(capsys):
    main(["createagent", "lead@kiwidesk.test", "--password", "x-7Gq!pz"])
    capsys.readouterr()

    code = main(["createagent", "lead@kiwidesk.test", "--password", "other-pass-9"])

    assert code == 1
    assert capsys.readouterr().err == (
        "kiwidesk: error: an agent with the email lead@kiwidesk.test already exists\n"
    )


@pytest.mark.django_db
def test_token_prints_a_secret_that_authenticates_the_agent(capsys):
    main(["createagent", "bot@kiwidesk.test", "--password", "x-7Gq!pz"])
    capsys.readouterr()

    code = main(["token", "bot@kiwidesk.test"])

    secret = capsys.readouterr().out.strip()
    assert code == 0
    assert agent_for_token(secret) == Agent.objects.get(email="bot@kiwidesk.test")


@pytest.mark.django_db
def test_token_for_an_unknown_email_is_a_one_line_error(capsys):
    code = main(["token", "nobody@kiwidesk.test"])

    assert code == 1
    assert (
        capsys.readouterr().err == "kiwidesk: error: no agent with the email nobody@kiwidesk.test\n"
    )


def test_a_bad_number_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["seed", "--cases", "many"])

    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "kiwidesk seed: error: argument --cases: 'many' is not a number"
    )


@pytest.mark.django_db
def test_seed_fills_the_database_and_prints_the_demo_login(data_dir, capsys):
    code = main(["seed", "--cases", "20", "--messages", "90", "--quiet"])

    out = capsys.readouterr().out
    password = (data_dir / "demo-password").read_text().strip()
    assert code == 0
    assert (Case.objects.count(), Message.objects.count()) == (20, 90)
    assert out.splitlines()[-1] == f"Demo login: demo@kiwidesk.test / {password}"


@pytest.mark.django_db
def test_seed_into_a_seeded_database_is_refused(data_dir, capsys):
    main(["seed", "--cases", "20", "--messages", "90", "--quiet"])
    capsys.readouterr()

    code = main(["seed", "--cases", "20", "--messages", "90", "--quiet"])

    assert code == 1
    assert capsys.readouterr().err.startswith("kiwidesk: error: the database already holds 20")
    assert Case.objects.count() == 20


@pytest.mark.django_db
def test_demo_setup_seeds_the_demo_cases_and_a_working_login(data_dir, client):
    login = prepare_demo()

    assert Case.objects.count() == 1000
    assert client.login(username=login.email, password=login.password)


@pytest.mark.django_db
def test_demo_setup_leaves_an_existing_database_as_it_is(data_dir):
    main(["seed", "--cases", "20", "--messages", "90", "--quiet"])

    prepare_demo()

    assert Case.objects.count() == 20


STARTED = re.compile(r"Started kiwidesk (\S+) \(pid (\d+)\)")


def test_serve_answers_and_stops_with_its_worker_and_mail_fetcher(tmp_path: Path):
    env = {**os.environ, "KIWIDESK_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    kiwidesk = [sys.executable, "-m", "kiwidesk.cli"]
    subprocess.run([*kiwidesk, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    server = subprocess.Popen(  # noqa: S603
        [*kiwidesk, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        started = [server.stdout.readline(), server.stdout.readline()]
        children = dict(STARTED.match(line).groups() for line in started)
        url = server.stdout.readline().split(" on ")[1].strip()

        with urllib.request.urlopen(url + "admin/login/", timeout=10) as response:  # noqa: S310
            status = response.status
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    finally:
        server.kill()  # a no-op once it has stopped; never leave a server behind

    assert (status, code) == (200, 0)
    assert sorted(children) == ["fetch-mail", "worker"]
    assert server.stdout.read().strip().splitlines()[-1] == "Kiwidesk stopped."
    assert [Path(f"/proc/{pid}").exists() for pid in children.values()] == [False, False]


@pytest.mark.skipif(
    "sqlite" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="planner statistics are SQLite's",
)
@pytest.mark.django_db
def test_serving_a_database_without_planner_statistics_analyses_it_first():
    from django.db import connection

    from kiwidesk.cli import _refresh_planner_statistics

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")

    _refresh_planner_statistics()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone()[0] == 1


def test_migrate_on_sqlite_keeps_the_work_queue_in_a_file_of_its_own(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KIWIDESK_DATA_DIR"] = str(tmp_path)

    subprocess.run(
        [sys.executable, "-m", "kiwidesk.cli", "migrate"], env=env, check=True, capture_output=True
    )

    queue = _tables(tmp_path / "queue.sqlite3")
    main_tables = _tables(tmp_path / "kiwidesk.sqlite3")
    assert {"ingest_delivery", "django_tasks_database_dbtaskresult"} <= queue
    assert {"ingest_delivery", "django_tasks_database_dbtaskresult"} & main_tables == set()
    assert {"cases_case", "ingest_receipt"} <= main_tables
    assert {"cases_case", "ingest_receipt"} & queue == set()


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
