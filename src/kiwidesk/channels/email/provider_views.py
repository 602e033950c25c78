"""Mail providers' inbound webhooks: anymail's views, answering with our own outcomes.

Anymail verifies the provider's signature and parses its payload; instead of sending
anymail's `inbound` signal, each mail's bytes are stored as an ingest Delivery with
one insert and the worker parses and ingests them (providers.handle). So the
webhook's answer never waits on ingest, and a wrong signature, a signed body that
holds no readable mail, or a provider left unconfigured each get a 4xx, never a 500.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.mailersend import MailerSendInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
)
from django.views.decorators.csrf import csrf_exempt

from kiwidesk.channels.common import public_url
from kiwidesk.channels.email import providers
from kiwidesk.channels.email.adapter import CHANNEL
from kiwidesk.ingest import deliveries
from kiwidesk.ingest.services import quarantine

logger = logging.getLogger(__name__)
# Answers quote what the request held: never let a browser read them as HTML.
_TEXT = "text/plain; charset=utf-8"


class _AcceptInboundMail:
    """Mixed in before an anymail inbound view: its checks and parsing, our storing."""

    provider: providers.Provider
    # Provided by anymail's view.
    run_validators: Any
    parse_events: Any

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Read the body before anymail reads the form: a multipart stream read into
        # POST and FILES cannot be read again, and an unreadable one is kept whole.
        request.body  # noqa: B018
        try:
            self.run_validators(request)
        except AnymailWebhookValidationFailure as exc:
            return HttpResponseForbidden(f"Refused: {exc}", content_type=_TEXT)
        try:
            mails = providers.inbound_mail(self.provider, self.parse_events(request))
        # The body is signed, so it is the provider's, but no mail can be read from it
        # (a tracking event sent to the inbound URL, a changed format): keep it for an
        # admin rather than lose it.
        except Exception as exc:
            return _unreadable(request, self.provider, exc)
        _accept(mails)
        return HttpResponse(f"Accepted {len(mails)} mail(s).", content_type=_TEXT)


def _accept(mails: list[providers.InboundMail]) -> None:
    # One transaction: a provider that gets an error resends the whole batch, so
    # none of it may be kept half (ingest's receipt makes the resend harmless).
    with transaction.atomic():
        for mail in mails:
            deliveries.accept(
                mail.raw, adapter=providers.HANDLER, channel=CHANNEL, source=mail.source
            )


def _unreadable(
    request: HttpRequest, provider: providers.Provider, error: Exception
) -> HttpResponse:
    reason = f"unreadable {provider.name} webhook: {type(error).__name__}: {error}"[:1000]
    body = request.body
    quarantine(
        body,
        channel=CHANNEL,
        adapter=f"{provider.name}-webhook",
        source=f"{providers.SOURCE_PREFIX}:{provider.name}:webhook",
        # Keyed by the body's digest: the provider's retries of it are kept once.
        external_id="sha256:" + hashlib.sha256(body).hexdigest(),
        reason=reason,
    )
    logger.warning("quarantined a signed %s webhook body: %s", provider.name, reason)
    return HttpResponseBadRequest(
        f"No mail could be read from this body ({reason}); it was kept.", content_type=_TEXT
    )


class MailgunInbound(_AcceptInboundMail, MailgunInboundWebhookView):  # type: ignore[misc]
    provider = providers.PROVIDERS["mailgun"]


class MandrillInbound(_AcceptInboundMail, MandrillCombinedWebhookView):  # type: ignore[misc]
    provider = providers.PROVIDERS["mandrill"]


class MailerSendInbound(_AcceptInboundMail, MailerSendInboundWebhookView):  # type: ignore[misc]
    provider = providers.PROVIDERS["mailersend"]


_VIEWS: dict[str, type[AnymailCoreWebhookView]] = {
    view.provider.name: view for view in (MailgunInbound, MandrillInbound, MailerSendInbound)
}


@csrf_exempt
def inbound(request: HttpRequest, provider: str) -> HttpResponse:
    """Accept one provider's inbound-mail webhook; 404 for a provider we do not know."""
    view_class = _VIEWS.get(provider)
    if view_class is None:
        return HttpResponseNotFound(
            f"No inbound mail provider is called {provider!r}.", content_type=_TEXT
        )
    try:
        return view_class.as_view(**_signed_url(request, view_class))(request)  # type: ignore[no-any-return]
    # Anymail raises this for a missing signing key (as the view starts, or as it checks
    # the signature): until it is set the endpoint does not exist.
    except ImproperlyConfigured as exc:
        return HttpResponseNotFound(
            f"Inbound mail from {provider} is not configured: {exc}", content_type=_TEXT
        )


def _signed_url(request: HttpRequest, view_class: type[AnymailCoreWebhookView]) -> dict[str, str]:
    """Mandrill signs the URL it called: behind a proxy that is KIWIDESK_PUBLIC_URL's."""
    if not settings.KIWIDESK_PUBLIC_URL or not hasattr(view_class, "webhook_url"):
        return {}
    return {"webhook_url": public_url(request.get_full_path(), request.build_absolute_uri())}
