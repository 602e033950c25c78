from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save


class SlaConfig(AppConfig):
    name = "kiwidesk.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from kiwidesk.cases.models import Event
        from kiwidesk.contacts.models import Organisation
        from kiwidesk.sla import signals

        post_save.connect(signals.queue_recompute, sender=Event, dispatch_uid="sla_event")
        pre_save.connect(signals.remember_tier, sender=Organisation, dispatch_uid="sla_tier")
        post_save.connect(
            signals.queue_tier_recompute, sender=Organisation, dispatch_uid="sla_tier_changed"
        )
