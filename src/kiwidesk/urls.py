from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from kiwidesk.api.main import api
from kiwidesk.api.main import docs as api_docs

admin.site.site_header = "Kiwidesk administration"
admin.site.site_title = "Kiwidesk admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("channels/", include("kiwidesk.channels.urls")),
    path("api/docs", api_docs, name="api-docs"),
    path("account/", include("kiwidesk.web.urls_account")),
    path("privacy/", include("kiwidesk.web.urls_privacy")),
    path("", include("kiwidesk.web.urls")),
]
