from __future__ import annotations

from django.urls import path

from kiwidesk.web import views
from kiwidesk.web.views import audit, break_glass, calls, chat, message_privacy, sla, whatsapp

app_name = "web"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/counts/", views.inbox_counts_fragment, name="inbox_counts"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("cases/new/", views.new_case, name="new_case"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("cases/<int:case_id>/header/", views.update_header, name="case_header"),
    path("cases/<int:case_id>/notes/", views.add_note, name="case_note"),
    path("cases/<int:case_id>/threads/", views.open_thread, name="case_thread"),
    path("cases/<int:case_id>/threads/<int:thread_id>/reply/", views.reply, name="case_reply"),
    path("cases/<int:case_id>/merge/", views.merge, name="case_merge"),
    path(
        "cases/<int:case_id>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
    path(
        "cases/<int:case_id>/messages/<int:message_id>/original/",
        views.message_original,
        name="message_original",
    ),
    path(
        "cases/<int:case_id>/messages/<int:message_id>/reveal/",
        message_privacy.reveal,
        name="reveal",
    ),
    path(
        "cases/<int:case_id>/messages/<int:message_id>/sensitivity/",
        message_privacy.mark_sensitivity,
        name="message_sensitivity",
    ),
    path("cases/<int:case_id>/break-glass/", break_glass.open_break_glass, name="break_glass"),
    path(
        "cases/<int:case_id>/break-glass/end/",
        break_glass.end_break_glass,
        name="break_glass_end",
    ),
    path("cases/<int:case_id>/threads/<int:thread_id>/calls/", calls.log_call, name="case_call"),
    path(
        "cases/<int:case_id>/calls/<int:call_id>/recording/",
        calls.recording,
        name="call_recording",
    ),
    path(
        "cases/<int:case_id>/threads/<int:thread_id>/whatsapp-template/",
        whatsapp.send_whatsapp_template,
        name="case_whatsapp_template",
    ),
    path("cases/<int:case_id>/chats/<int:session_id>/live/", chat.chat_live, name="case_chat_live"),
    path("contacts/<int:contact_id>/", views.contact_page, name="contact"),
    path("sla/policies/", sla.policies, name="sla_policies"),
    path("sla/policies/new/", sla.new_policy, name="sla_policy_new"),
    path("sla/policies/<int:policy_id>/", sla.edit_policy, name="sla_policy"),
    path("sla/policies/<int:policy_id>/move/", sla.move_policy, name="sla_policy_move"),
    path("sla/policies/<int:policy_id>/delete/", sla.delete_policy, name="sla_policy_delete"),
    path("sla/calendars/", sla.calendars, name="sla_calendars"),
    path("sla/calendars/new/", sla.new_calendar, name="sla_calendar_new"),
    path("sla/calendars/<int:calendar_id>/", sla.edit_calendar, name="sla_calendar"),
    path("sla/report/", sla.report, name="sla_report"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("audit/export/", audit.export_audit_log, name="audit_export"),
]
