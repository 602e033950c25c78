from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "kiwidesk.cases"
    label = "cases"
    verbose_name = "Cases"
