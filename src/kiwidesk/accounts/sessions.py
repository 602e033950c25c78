"""When a login session started and when it was last renewed (for the idle timeout and cap)."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

SESSION_STARTED_KEY = "kiwidesk_session_started_at"
SESSION_RENEWED_KEY = "kiwidesk_session_renewed_at"


def stamp_login(sender: object, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: a new session starts its clocks now, in the same save."""
    if hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_STARTED_KEY] = now
        request.session[SESSION_RENEWED_KEY] = now
