"""The login throttle as an authentication backend (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Axes' lockout check, for logins that come with a request.

    authenticate() without a request (the test client's login, a script) is no login
    from a network address, so there is nothing to throttle; plain axes refuses it.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None  # axes only refuses (raises) or lets the next backend check the password


def client_ip(request: HttpRequest) -> str | None:
    """The address the login throttle counts: the first of KIWIDESK_CLIENT_IP_HEADERS present.

    Of a list such as X-Forwarded-For's, the right-most entry: the one the operator's
    own proxy added, which a client cannot forge.
    """
    for header in settings.KIWIDESK_CLIENT_IP_HEADERS:
        value = request.META.get(header, "")
        if value:
            return str(value).split(",")[-1].strip() or None
    return None
