from __future__ import annotations

from django.urls import path

from kiwidesk.web import views

app_name = "web"

urlpatterns = [
    path("", views.inbox, name="inbox"),
]
