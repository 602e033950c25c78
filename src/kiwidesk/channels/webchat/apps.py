from __future__ import annotations

from django.apps import AppConfig


class WebchatConfig(AppConfig):
    name = "kiwidesk.channels.webchat"
    label = "channels_webchat"
    verbose_name = "Web chat"

    def ready(self) -> None:
        from kiwidesk.cases import outbox
        from kiwidesk.cases.models import Channel
        from kiwidesk.channels.webchat import adapter, erasure

        # An agent's reply on a chat thread goes to the visitor's stream while the chat
        # lasts, and by email afterwards (adapter.send decides).
        outbox.register(Channel.CHAT, adapter.send)
        erasure.register()
