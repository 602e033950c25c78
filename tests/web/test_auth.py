from __future__ import annotations

import pytest

from tests.factories.accounts import PASSWORD, AgentFactory


@pytest.mark.django_db
def test_login_page_asks_for_email_and_password(client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert b'type="email" name="username"' in response.content
    assert b'type="password" name="password"' in response.content


@pytest.mark.django_db
def test_agent_logs_in_with_email_and_lands_on_the_inbox(client, agent):
    response = client.post("/login/", {"username": "agent@kiwidesk.test", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_wrong_password_shows_the_form_again_with_an_error(client, agent):
    response = client.post("/login/", {"username": "agent@kiwidesk.test", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_deactivated_agent_cannot_log_in(client):
    AgentFactory(email="gone@kiwidesk.test", is_active=False)

    response = client.post("/login/", {"username": "gone@kiwidesk.test", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_ends_the_session(agent_client):
    response = agent_client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert agent_client.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_by_get_is_refused(agent_client):
    response = agent_client.get("/logout/")

    assert response.status_code == 405
    assert agent_client.get("/").status_code == 200


@pytest.mark.django_db
def test_deactivated_agent_loses_their_session(agent_client, agent):
    agent.is_active = False
    agent.save()

    response = agent_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
