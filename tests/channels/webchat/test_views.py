from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kiwidesk.accounts.models import Team
from kiwidesk.cases.models import Message
from kiwidesk.channels.webchat import services, verification
from kiwidesk.channels.webchat.models import ChatSession, EmailCode
from tests.channels.webchat.conftest import SITE, mailed_code

BASE = "/channels/chat/"
EVIL = "https://evil.example"


def post(client: Client, path: str, body: object, *, token: str = "", origin: str = SITE, **extra):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(BASE + path, raw, content_type="application/json", **headers, **extra)


def test_a_visitor_starts_a_chat_and_posts_a_message(client: Client, team: Team):
    started = post(client, "sessions/", {"team": team.slug})
    token = started.json()["token"]

    posted = post(client, "messages/", {"id": "m1", "text": "Hello <b>there</b>"}, token=token)

    assert started.status_code == 201
    assert posted.status_code == 201
    assert posted.json()["entry"]["text"] == "Hello <b>there</b>"
    assert posted["Access-Control-Allow-Origin"] == SITE
    assert Message.objects.get().body_html == ""


def test_a_site_not_allowed_is_refused_and_nothing_is_stored(client: Client, team: Team):
    response = post(client, "sessions/", {"team": team.slug}, origin=EVIL)

    assert response.status_code == 403
    assert response.json() == {"error": "The site https://evil.example may not use this chat."}
    assert "Access-Control-Allow-Origin" not in response
    assert ChatSession.objects.count() == 0


def test_a_token_used_from_a_site_not_allowed_is_refused(
    client: Client, started: services.StartedChat
):
    response = post(
        client, "messages/", {"id": "m1", "text": "hi"}, token=started.token, origin=EVIL
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_the_preflight_of_an_allowed_site_names_what_it_may_send(client: Client):
    response = client.options(
        BASE + "messages/",
        HTTP_ORIGIN=SITE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert response["Access-Control-Allow-Headers"] == "Authorization, Content-Type, Last-Event-ID"
    assert response["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_the_preflight_of_a_site_not_allowed_is_refused(client: Client):
    response = client.options(BASE + "messages/", HTTP_ORIGIN=EVIL)

    assert response.status_code == 403


def test_any_site_may_use_the_chat_when_the_origins_say_so(client: Client, team: Team, settings):
    settings.KIWIDESK_CHAT_ORIGINS = ["*"]

    response = post(client, "sessions/", {"team": team.slug}, origin=EVIL)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == EVIL


def test_the_desks_own_pages_may_use_the_chat(client: Client, team: Team, settings):
    settings.KIWIDESK_CHAT_ORIGINS = []

    response = post(client, "sessions/", {"team": team.slug}, origin="http://testserver")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b"\xff\xfe", "The body is not valid JSON."),
        (b"[1, 2]", "The body must be a JSON object."),
        (b'{"id": "m1", "text": 42}', "'text' must be a string."),
        (b'{"id": "m1", "text": "   "}', "'text' is required."),
        (b'{"text": "hello"}', "'id' is required."),
    ],
)
def test_a_malformed_message_is_refused_with_a_reason(
    client: Client, started: services.StartedChat, body: bytes, error: str
):
    response = post(client, "messages/", body, token=started.token)

    assert (response.status_code, response.json()) == (400, {"error": error})
    assert Message.objects.count() == 0


def test_a_message_over_the_length_limit_is_refused(client: Client, started: services.StartedChat):
    response = post(client, "messages/", {"id": "m1", "text": "x" * 4001}, token=started.token)

    assert response.status_code == 413
    assert response.json() == {"error": "'text' is too long: at most 4000 characters."}
    assert Message.objects.count() == 0


def test_a_body_over_the_size_limit_is_refused(client: Client, started: services.StartedChat):
    body = {"id": "m1", "text": "ok", "padding": "x" * 20_000}

    response = post(client, "messages/", body, token=started.token)

    assert response.status_code == 413
    assert response.json() == {"error": "The request is too large: at most 16384 bytes."}


@pytest.mark.parametrize(
    ("token", "error"),
    [("", "A chat token is required."), ("guessed", "This chat does not exist; start a new one.")],
)
def test_a_message_without_a_valid_token_is_refused(
    client: Client, db: None, token: str, error: str
):
    response = post(client, "messages/", {"id": "m1", "text": "hi"}, token=token)

    assert (response.status_code, response.json()) == (401, {"error": error})


def test_a_message_to_an_ended_chat_asks_for_a_new_one(
    client: Client, started: services.StartedChat
):
    post(client, "end/", {}, token=started.token)

    response = post(client, "messages/", {"id": "m1", "text": "hi"}, token=started.token)

    assert response.status_code == 409
    assert response.json() == {"error": "This chat has ended; start a new one."}


def test_a_widget_naming_an_unknown_team_gets_a_clear_error(client: Client, db: None):
    response = post(client, "sessions/", {"team": "nobody"})

    assert (response.status_code, response.json()) == (400, {"error": "There is no team 'nobody'."})


def test_a_malformed_email_gets_a_clear_error(client: Client, started: services.StartedChat):
    response = post(client, "identify/", {"email": "not an address"}, token=started.token)

    assert (response.status_code, response.json()) == (
        400,
        {"error": "That is not an email address."},
    )


def test_the_visitor_who_gives_an_address_is_mailed_a_code(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    response = post(client, "identify/", {"email": "Visitor@Example.org"}, token=started.token)

    assert (response.status_code, response.json()) == (
        202,
        {"code_sent_to": "visitor@example.org", "expires_minutes": 10},
    )
    assert [mail.to for mail in mailoutbox] == [["visitor@example.org"]]
    assert ChatSession.objects.get().email == ""


def test_the_right_code_confirms_the_visitors_address(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)

    response = post(client, "confirm/", {"code": mailed_code(mailoutbox[0])}, token=started.token)

    assert (response.status_code, response.json()) == (200, {"email": "visitor@example.org"})
    assert ChatSession.objects.get().email == "visitor@example.org"


def test_a_wrong_code_is_refused_with_the_tries_left(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)
    code = mailed_code(mailoutbox[0])

    response = post(
        client, "confirm/", {"code": f"{(int(code) + 1) % 10**6:06d}"}, token=started.token
    )

    assert (response.status_code, response.json()) == (
        400,
        {"error": "That code is not right; 4 tries left."},
    )
    assert ChatSession.objects.get().email == ""


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567"])
def test_a_code_of_the_wrong_shape_is_refused_without_costing_a_try(
    client: Client, started: services.StartedChat, mailoutbox: list, code: str
):
    post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)

    response = post(client, "confirm/", {"code": code}, token=started.token)

    assert (response.status_code, response.json()) == (400, {"error": "The code is 6 digits."})
    assert EmailCode.objects.get().attempts == 0


def test_an_expired_code_is_refused_as_gone(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)
    EmailCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = post(client, "confirm/", {"code": mailed_code(mailoutbox[0])}, token=started.token)

    assert (response.status_code, response.json()) == (
        410,
        {"error": "This code has expired; ask for a new one."},
    )


def test_a_code_after_too_many_tries_is_refused(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)
    EmailCode.objects.update(attempts=verification.MAX_TRIES)

    response = post(client, "confirm/", {"code": mailed_code(mailoutbox[0])}, token=started.token)

    assert (response.status_code, response.json()) == (
        429,
        {"error": "Too many wrong codes; ask for a new one."},
    )


def test_a_code_when_none_was_asked_for_is_refused(client: Client, started: services.StartedChat):
    response = post(client, "confirm/", {"code": "123456"}, token=started.token)

    assert (response.status_code, response.json()) == (
        400,
        {"error": "Ask for a code first: give your email address."},
    )


def test_a_fourth_code_within_the_hour_is_refused(
    client: Client, started: services.StartedChat, mailoutbox: list
):
    for number in range(verification.CODES_PER_SESSION):
        post(client, "identify/", {"email": f"v{number}@example.org"}, token=started.token)

    response = post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)

    assert response.status_code == 429
    assert len(mailoutbox) == verification.CODES_PER_SESSION


def test_a_code_the_mail_server_cannot_take_asks_to_try_again(
    client: Client, started: services.StartedChat, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    response = post(client, "identify/", {"email": "visitor@example.org"}, token=started.token)

    assert (response.status_code, response.json()) == (
        503,
        {"error": "We could not send the code just now; try again in a minute."},
    )


def test_a_client_starting_too_many_chats_is_asked_to_wait(client: Client, team: Team):
    for _ in range(services.CHATS_PER_CLIENT):
        post(client, "sessions/", {"team": team.slug}, REMOTE_ADDR="198.51.100.4")

    response = post(client, "sessions/", {"team": team.slug}, REMOTE_ADDR="198.51.100.4")

    assert (response.status_code, response.json()) == (
        429,
        {"error": "Too many new chats from your address; please wait a minute."},
    )
    assert response["Access-Control-Allow-Origin"] == SITE
    assert ChatSession.objects.count() == services.CHATS_PER_CLIENT


def test_a_get_on_a_post_endpoint_is_refused(client: Client, db: None):
    response = client.get(BASE + "messages/", HTTP_ORIGIN=SITE)

    assert (response.status_code, response.json()) == (405, {"error": "Use POST."})


def test_the_chat_sets_no_cookies(client: Client, started: services.StartedChat):
    responses = [
        post(client, "sessions/", {}),
        post(client, "messages/", {"id": "m1", "text": "hi"}, token=started.token),
        client.get(BASE + "stream/", {"token": started.token}, HTTP_ORIGIN=SITE),
    ]

    assert [dict(response.cookies) for response in responses] == [{}, {}, {}]


def test_the_stream_resumes_after_the_last_event_id(
    client: Client, started: services.StartedChat, settings
):
    settings.KIWIDESK_CHAT_MAX_STREAMS = 0  # answer at once instead of waiting
    first = services.post_message(started.session, client_id="m1", text="one")
    second = services.post_message(started.session, client_id="m2", text="two")

    response = client.get(
        BASE + "stream/",
        {"token": started.token},
        HTTP_ORIGIN=SITE,
        HTTP_LAST_EVENT_ID=str(first.pk),
    )

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/event-stream"
    assert response["Access-Control-Allow-Origin"] == SITE
    assert f"id: {first.pk}\n" not in body
    assert f"id: {second.pk}\n" in body


def test_a_stream_with_a_bad_last_event_id_is_refused(
    client: Client, started: services.StartedChat
):
    response = client.get(
        BASE + "stream/", {"token": started.token, "after": "x"}, HTTP_ORIGIN=SITE
    )

    assert (response.status_code, response.json()) == (400, {"error": "'x' is not an event id"})


def test_a_stream_for_an_unknown_chat_is_refused(client: Client, db: None):
    response = client.get(BASE + "stream/", {"token": "guessed"}, HTTP_ORIGIN=SITE)

    assert response.status_code == 401


def test_the_widget_script_loads_on_any_site(client: Client):
    response = client.get(BASE + "widget.js", HTTP_ORIGIN=EVIL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"attachShadow" in response.content


def test_the_demo_page_is_off_unless_asked_for(client: Client, db: None, settings):
    settings.DEBUG, settings.KIWIDESK_CHAT_DEMO = False, False

    response = client.get(BASE + "demo/")

    assert response.status_code == 404


def test_the_demo_page_embeds_the_widget_for_a_team(client: Client, team: Team, settings):
    settings.KIWIDESK_CHAT_DEMO = True

    response = client.get(BASE + "demo/")

    assert response.status_code == 200
    assert (
        b'<script src="/channels/chat/widget.js" data-team="clinician-support" async></script>'
        in response.content
    )


def test_a_visitor_flooding_the_chat_is_asked_to_slow_down(
    client: Client, started: services.StartedChat
):
    for number in range(services.RATE_LIMIT):
        post(client, "messages/", {"id": f"m{number}", "text": "spam"}, token=started.token)

    response = post(client, "messages/", {"id": "more", "text": "spam"}, token=started.token)

    assert (response.status_code, response.json()) == (
        429,
        {"error": "At most 30 messages a minute, please."},
    )


def test_the_desks_public_address_counts_as_its_own_origin(client: Client, team: Team, settings):
    settings.KIWIDESK_CHAT_ORIGINS = []
    settings.KIWIDESK_PUBLIC_URL = "https://desk.example.org/"

    response = post(client, "sessions/", {"team": team.slug}, origin="https://desk.example.org")

    assert response.status_code == 201
