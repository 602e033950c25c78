from __future__ import annotations

from django.urls import URLPattern, path

from kiwidesk.web.views import privacy

app_name = "privacy"

urlpatterns: list[URLPattern] = [
    path("contacts/<int:contact_id>/export/", privacy.export_contact, name="contact_export"),
    path("contacts/<int:contact_id>/erase/", privacy.erase_contact, name="contact_erase"),
    path("retention/", privacy.retention_policies_page, name="retention"),
    path("retention/<int:policy_id>/", privacy.edit_retention_policy, name="retention_edit"),
    path(
        "retention/<int:policy_id>/delete/",
        privacy.delete_retention_policy,
        name="retention_delete",
    ),
]
