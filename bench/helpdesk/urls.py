"""helpdesk's URLs, which its acknowledgement mails link to; nothing serves them."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
