"""What channels and ingest add to the case page: suggested merges, delivery, originals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from kiwidesk.cases import events, outbox, services
from kiwidesk.cases.models import Channel, DeliveryStatus, Sensitivity, Status
from kiwidesk.channels.email.adapter import parse
from kiwidesk.ingest.contract import InboundMessage, Sender
from kiwidesk.ingest.services import ingest
from kiwidesk.privacy.models import AuditOutcome
from tests.factories.cases import customer_thread, make_case, make_third_party_thread
from tests.factories.contacts import ContactFactory
from tests.web.conftest import log_in
from tests.web.test_case_page import audit_outcomes

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
RAW_MAIL = (
    b"From: Customer <customer@example.test>\r\n"
    b"Subject: Table for six\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
    b"Caf\xe9 on Monday?\r\n"
)


def suggest(case, other) -> None:
    events.merge_suggested(case, other=other, at=AT)


def stored_raw(content: bytes) -> str:
    return default_storage.save("raw/test-original", ContentFile(content))


def received(case, *, channel_raw: bytes = RAW_MAIL, **details):
    return services.receive_message(
        customer_thread(case),
        text="Caf\xe9 on Monday?",
        inbound=services.InboundDetails(raw_file=stored_raw(channel_raw), **details),
    )


@pytest.mark.django_db
def test_suggested_merge_shows_the_other_open_case_with_a_one_click_merge(agent_client):
    customer = ContactFactory()
    other = make_case(customer=customer, subject="Table for six in Antigua")
    case = make_case(customer=customer)
    suggest(case, other)

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert (
        f'This customer also has <a href="/cases/{other.pk}/">case #{other.pk}</a>'
        ' (Table for six in Antigua), open <span class="badge status-new">New</span>' in html
    )
    assert f'<form method="post" action="/cases/{case.pk}/merge/">' in html
    assert f'<input type="hidden" name="target" value="{other.pk}">' in html
    assert f"Merge this case into #{other.pk}</button>" in html


@pytest.mark.django_db
def test_second_mail_from_a_customer_with_an_open_case_suggests_the_merge(agent_client):
    first = InboundMessage(
        channel=Channel.EMAIL,
        source="support@kiwidesk.test",
        external_id="first@example.test",
        sender=Sender("email", "customer@example.test"),
        subject="Table for six in Antigua",
        text="A table on Monday, please.",
    )
    other = ingest(first).case
    second = ingest(
        InboundMessage(
            channel=Channel.EMAIL,
            source="support@kiwidesk.test",
            external_id="second@example.test",
            sender=Sender("email", "customer@example.test"),
            subject="Also a car",
            text="And a car from the airport.",
        )
    ).case

    response = agent_client.get(f"/cases/{second.pk}/")

    assert second.pk != other.pk
    assert f"Merge this case into #{other.pk}</button>".encode() in response.content


@pytest.mark.django_db
def test_no_merge_suggestion_once_the_other_case_is_solved(agent_client, agent):
    customer = ContactFactory()
    other = make_case(customer=customer)
    case = make_case(customer=customer)
    suggest(case, other)
    services.update_case(agent, other, {"status": Status.SOLVED})

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"Merge this case into" not in response.content


@pytest.mark.django_db
def test_no_merge_suggestion_once_the_other_case_was_merged_elsewhere(agent_client, agent):
    customer = ContactFactory()
    other, elsewhere = make_case(customer=customer), make_case(customer=customer)
    case = make_case(customer=customer)
    suggest(case, other)
    services.merge_cases(agent, source=other, target=elsewhere)

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"Merge this case into" not in response.content


@pytest.mark.django_db
def test_merge_suggestion_never_shows_a_case_the_agent_cannot_open(agent_client):
    customer = ContactFactory()
    other = make_case(customer=customer, subject="Session notes", sensitivity=Sensitivity.CLINICAL)
    case = make_case(customer=customer)
    suggest(case, other)

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b"Merge this case into" not in response.content
    assert b"Session notes" not in response.content


@pytest.mark.django_db
def test_one_click_merge_moves_this_case_into_the_suggested_one(agent_client):
    customer = ContactFactory()
    other = make_case(customer=customer)
    case = make_case(customer=customer)
    suggest(case, other)

    response = agent_client.post(f"/cases/{case.pk}/merge/", {"target": str(other.pk)})

    case.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{other.pk}/"
    assert case.merged_into_id == other.pk


@pytest.mark.django_db
def test_timeline_summarises_the_merge_suggestion(agent_client):
    customer = ContactFactory()
    other = make_case(customer=customer, subject="Clinical matter")
    case = make_case(customer=customer)
    suggest(case, other)

    response = agent_client.get(f"/cases/{case.pk}/")

    summary = f"<span>Merge suggested: the customer also has case #{other.pk} open</span>"
    assert summary.encode() in response.content


@pytest.mark.django_db
def test_timeline_says_the_case_follows_a_closed_one(agent_client):
    closed, case = make_case(), make_case()
    events.follows_closed_case(case, closed=closed, at=AT)

    response = agent_client.get(f"/cases/{case.pk}/")

    summary = f"<span>Follows closed case #{closed.pk}: the customer wrote again</span>"
    assert summary.encode() in response.content


@pytest.mark.django_db
def test_timeline_says_which_attachment_was_refused_and_why(agent_client):
    case = make_case()
    message = case.messages.get()
    events.attachment_refused(
        message, filename="invoice.exe", reason="invoice.exe is a type that could run code"
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    summary = b"<span>Attachment refused: invoice.exe is a type that could run code</span>"
    assert summary in response.content
    assert response.content.count(f'id="message-{message.pk}"'.encode()) == 1


@pytest.mark.django_db
def test_new_reply_shows_as_pending(agent_client, agent):
    case = make_case()
    services.reply(agent, customer_thread(case), text="We are on it.")

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b'<span class="badge delivery delivery-pending">Pending</span>' in response.content


@pytest.mark.parametrize(
    ("status", "badge", "summary"),
    [
        (DeliveryStatus.SENT, "Sent", "sent"),
        (DeliveryStatus.DELIVERED, "Delivered", "delivered"),
        (DeliveryStatus.READ, "Read", "read"),
    ],
)
@pytest.mark.django_db
def test_delivery_progress_shows_on_the_message_and_the_timeline(
    agent_client, agent, status, badge, summary
):
    case = make_case(customer=ContactFactory(name="Harbour Guest"))
    message = services.reply(agent, customer_thread(case), text="Booked for Monday.")
    services.record_delivery(message, status, at=AT)

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert f'<span class="badge delivery delivery-{status}">{badge}</span>' in html
    assert f"<span>Message to Harbour Guest {summary}</span>" in html
    assert html.count(f'id="message-{message.pk}"') == 1


@pytest.mark.django_db
def test_failed_send_shows_in_red_with_the_outbox_reason(agent_client, agent):
    case = make_case()
    vendor = make_third_party_thread(agent, case, name="Harbour View Restaurant")
    message = services.reply(agent, vendor, text="A table for six?")
    services.deliver_outbound(message.pk)

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert '<span class="badge delivery delivery-failed">Failed</span>' in html
    assert (
        '<p class="delivery-error">Not delivered: Nothing can send on the &#x27;phone&#x27;'
        " channel.</p>"
    ) in html
    assert (
        '<li class="event event-delivery_updated event-failed">\n      <span>Message to Harbour'
        " View Restaurant failed: Nothing can send on the &#x27;phone&#x27; channel.</span>"
    ) in html


@pytest.mark.django_db
def test_automatic_reply_is_marked_and_quieter(agent_client):
    case = make_case()
    message = services.receive_message(
        customer_thread(case),
        text="I am out of the office until Monday.",
        inbound=services.InboundDetails(is_automated=True),
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert (
        f'<li class="message message-inbound message-automated" id="message-{message.pk}">' in html
    )
    assert ">Automatic reply</span>" in html


@pytest.mark.django_db
def test_stripped_message_offers_the_full_text(agent_client):
    case = make_case()
    services.receive_message(
        customer_thread(case),
        text="Monday works.",
        inbound=services.InboundDetails(
            full_text="Monday works.\n\nOn Friday you wrote:\n> Which day suits you?"
        ),
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert html.count('<details class="full-message">') == 1
    assert "<summary>Show full message</summary>" in html
    assert "On Friday you wrote:<br>&gt; Which day suits you?" in html


@pytest.mark.django_db
def test_message_with_raw_bytes_links_to_its_original(agent_client):
    case = make_case()
    message = received(case)

    response = agent_client.get(f"/cases/{case.pk}/")

    link = f'<a href="/cases/{case.pk}/messages/{message.pk}/original/" download>'
    assert response.content.decode().count("Download original") == 1
    assert link.encode() in response.content


@pytest.mark.parametrize(
    ("role", "expected_status", "expected_audit"),
    [
        ("anonymous", 302, []),
        ("agent", 403, [AuditOutcome.DENIED]),
        ("clinical_agent", 200, [AuditOutcome.GRANTED]),
    ],
)
@pytest.mark.django_db
def test_download_original_authorization_matrix(
    client, request, role, expected_status, expected_audit
):
    case = make_case(sensitivity=Sensitivity.CLINICAL)
    message = received(case)
    actor = {
        "anonymous": None,
        "agent": request.getfixturevalue("agent"),
        "clinical_agent": request.getfixturevalue("clinical_agent"),
    }[role]
    log_in(client, actor)

    response = client.get(f"/cases/{case.pk}/messages/{message.pk}/original/")

    assert response.status_code == expected_status
    assert audit_outcomes(case) == expected_audit


@pytest.mark.django_db
def test_anonymous_download_goes_to_the_login_page(client):
    case = make_case()
    message = received(case)
    url = f"/cases/{case.pk}/messages/{message.pk}/original/"

    response = client.get(url)

    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.django_db
def test_cleared_agent_downloads_the_exact_original_mail(clinical_client):
    case = make_case(sensitivity=Sensitivity.CLINICAL)
    message = received(case)

    response = clinical_client.get(f"/cases/{case.pk}/messages/{message.pk}/original/")

    assert b"".join(response.streaming_content) == RAW_MAIL
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'


@pytest.mark.django_db
def test_original_webhook_body_downloads_as_bytes(agent_client):
    body = b"MessageSid=SM123&Body=Table+for+six"
    case = make_case(channel=Channel.SMS)
    message = received(case, channel_raw=body)

    response = agent_client.get(f"/cases/{case.pk}/messages/{message.pk}/original/")

    assert b"".join(response.streaming_content) == body
    assert response["Content-Type"] == "application/octet-stream"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="message-{message.pk}-original.txt"'
    )


@pytest.mark.django_db
def test_message_without_raw_bytes_has_no_original(agent_client):
    case = make_case()
    message = case.messages.get()

    response = agent_client.get(f"/cases/{case.pk}/messages/{message.pk}/original/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_original_of_another_cases_message_is_not_found(agent_client):
    other, case = make_case(), make_case()
    message = received(other)

    response = agent_client.get(f"/cases/{case.pk}/messages/{message.pk}/original/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_stripped_html_mail_shows_the_text_and_keeps_the_formatted_original(agent_client):
    case = make_case()
    services.receive_message(
        customer_thread(case),
        text="Monday works.",
        html="<p>Monday works.</p><blockquote>Which <b>day</b> suits you?</blockquote>",
        inbound=services.InboundDetails(full_text="Monday works.\n\n> Which day suits you?"),
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    html = response.content.decode()
    assert '<div class="message-body"><p>Monday works.</p></div>' in html
    assert (
        '<div class="message-full"><p>Monday works.</p>'
        "<blockquote>Which <b>day</b> suits you?</blockquote></div>"
    ) in html


@pytest.mark.django_db
def test_unstripped_message_has_no_full_message_toggle(agent_client):
    case = make_case()
    services.receive_message(
        customer_thread(case), text="Monday works.", html="<p>Monday <b>works</b>.</p>"
    )

    response = agent_client.get(f"/cases/{case.pk}/")

    assert b'<div class="message-body"><p>Monday <b>works</b>.</p></div>' in response.content
    assert b"Show full message" not in response.content


REPLY_MAIL = (
    b"From: Customer <customer@example.test>\r\n"
    b"To: support@kiwidesk.test\r\n"
    b"Subject: Re: Table for six\r\n"
    b"Message-ID: <reply-1@example.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/alternative; boundary=part\r\n\r\n"
    b"--part\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Monday works.\r\n\r\nOn Fri, 20 Nov 2026, Support wrote:\r\n> Which day suits you?\r\n"
    b"--part\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Monday works.</p><blockquote>Which day suits you?</blockquote>\r\n"
    b"--part--\r\n"
)


@pytest.mark.django_db
def test_ingested_reply_mail_shows_stripped_text_with_its_full_original(agent_client):
    stored = ingest(parse(REPLY_MAIL, "support@kiwidesk.test")).message

    response = agent_client.get(f"/cases/{stored.case_id}/")
    original = agent_client.get(f"/cases/{stored.case_id}/messages/{stored.pk}/original/")

    html = response.content.decode()
    assert '<div class="message-body"><p>Monday works.</p></div>' in html
    assert (
        '<div class="message-full"><p>Monday works.</p>'
        "<blockquote>Which day suits you?</blockquote></div>"
    ) in html
    assert b"".join(original.streaming_content) == REPLY_MAIL


@pytest.mark.django_db
def test_a_send_that_will_be_retried_shows_why_and_when_on_the_timeline(
    agent_client, agent, monkeypatch
):
    def provider_down(message):
        raise outbox.SendError("the provider answered 503", is_permanent=False)

    monkeypatch.setattr(outbox, "_SENDERS", dict(outbox._SENDERS))
    outbox.register(Channel.CHAT, provider_down)
    case = make_case(channel=Channel.CHAT, customer=ContactFactory(name="Harbour Guest"))
    message = services.reply(agent, customer_thread(case), text="Booked.", at=AT)
    services.deliver_outbound(message.pk, at=AT)

    response = agent_client.get(f"/cases/{case.pk}/")

    assert (
        "<span>Message to Harbour Guest not sent (attempt 1): the provider answered 503; "
        "trying again at 23 Nov 2026, 9:31 a.m.</span>"
    ) in response.content.decode()


INLINE_IMAGE_MAIL = (
    b"From: Customer <customer@example.test>\r\n"
    b"To: support@kiwidesk.test\r\n"
    b"Subject: The error on screen\r\n"
    b"Message-ID: <inline-1@example.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
    b"--rel\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>This is what I see:</p><img src="cid:shot-1@example.test" alt="screenshot">\r\n'
    b"--rel\r\n"
    b"Content-Type: image/png\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-ID: <shot-1@example.test>\r\n"
    b"Content-Disposition: inline\r\n\r\n"
    b"iVBORw0KGgo=\r\n"
    b"--rel--\r\n"
)


@pytest.mark.django_db
def test_an_inline_image_of_a_mail_shows_in_its_body(agent_client, agent):
    stored = ingest(parse(INLINE_IMAGE_MAIL, "support@kiwidesk.test"))
    (image,) = stored.message.attachments.all()

    response = agent_client.get(f"/cases/{stored.case.pk}/")

    assert image.content_id == "shot-1@example.test"
    assert (
        f'<img src="/cases/{stored.case.pk}/attachments/{image.pk}/" alt="screenshot">'
        in response.content.decode()
    )
