"""The live part of a web chat on the case page: the visitor's new messages, polled by htmx."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kiwidesk.channels.webchat import live
from kiwidesk.privacy.access import Purpose
from kiwidesk.web.views._common import agent_of, agent_required, case_or_404

MAX_CURSOR_DIGITS = 18


@require_GET
@agent_required
def chat_live(request: HttpRequest, case_id: int, session_id: int) -> HttpResponse:
    """The poll's next state and, appended to the timeline, the messages after `after`.

    Once the chat has ended the answer carries no trigger, so the page stops polling. An
    address the visitor confirmed since the last answer replaces the "not verified" line.
    """
    case_or_404(agent_of(request), case_id, Purpose.VIEW)
    after = request.GET.get("after", "0")
    if not after.isdigit() or len(after) > MAX_CURSOR_DIGITS:
        return HttpResponseBadRequest("'after' must be a message number.")
    news = live.visitor_news(case_id=case_id, session_id=session_id, after=int(after))
    if news is None:
        raise Http404("No such chat on this case")
    # The page said "not verified" (or nothing): a confirmation since then replaces that.
    was_confirmed = request.GET.get("confirmed") == "1"
    return render(
        request,
        "web/_chat_live.html",
        {
            "case_id": case_id,
            "news": news,
            "newly_confirmed": bool(news.confirmed_email) and not was_confirmed,
        },
    )
