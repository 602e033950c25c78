"""The web chat's paths, under /channels/chat/."""

from __future__ import annotations

from django.urls import URLPattern, path

from kiwidesk.channels.webchat import views

app_name = "webchat"

urlpatterns: list[URLPattern] = [
    path("widget.js", views.widget_js, name="widget"),
    path("sessions/", views.start, name="start"),
    path("messages/", views.post_message, name="messages"),
    path("identify/", views.identify, name="identify"),
    path("confirm/", views.confirm, name="confirm"),
    path("end/", views.end, name="end"),
    path("stream/", views.events, name="stream"),
    path("demo/", views.demo, name="demo"),
]
