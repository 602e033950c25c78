from __future__ import annotations

from django.urls import path

from kiwidesk.web.views import account

app_name = "account"

urlpatterns = [
    path("two-factor/", account.two_factor, name="two_factor"),
    path("verify/", account.verify, name="verify"),
    path("tokens/", account.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", account.revoke, name="token_revoke"),
]
