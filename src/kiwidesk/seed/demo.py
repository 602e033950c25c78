"""The demo login: one agent whose password is generated once and kept in the data folder."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from kiwidesk.accounts.models import Agent, Clearance, Role, Team
from kiwidesk.accounts.services import create_agent
from kiwidesk.seed.people import DEMO_EMAIL

PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name, not a password


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def ensure_demo_login(data_dir: Path) -> DemoLogin:
    """Make sure the demo agent exists and can log in with the password kept in `data_dir`.

    The password survives restarts so a browser's saved login keeps working; a
    missing or stale file is replaced by a fresh password.
    """
    agent = Agent.objects.filter(email=DEMO_EMAIL).first()
    if agent is None:
        agent = create_agent(DEMO_EMAIL, name="Demo Lead", clearance=Clearance.CLINICAL)
        Agent.objects.filter(pk=agent.pk).update(role=Role.LEAD)
        agent.teams.set(Team.objects.all())
    password_file = data_dir / PASSWORD_FILE
    kept = password_file.read_text().strip() if password_file.exists() else ""
    if kept and agent.check_password(kept):
        return DemoLogin(DEMO_EMAIL, kept)
    password = secrets.token_urlsafe(12)
    agent.set_password(password)
    agent.save(update_fields=["password"])
    data_dir.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return DemoLogin(DEMO_EMAIL, password)
