"""The agent web UI: each module is one screen or one family of form posts."""

from __future__ import annotations

from kiwidesk.web.views.auth import LoginView, LogoutView
from kiwidesk.web.views.case_actions import add_note, merge, open_thread, reply
from kiwidesk.web.views.case_page import attachment, case_page, message_original, update_header
from kiwidesk.web.views.contacts import contact_page
from kiwidesk.web.views.inbox import inbox, inbox_counts_fragment
from kiwidesk.web.views.new_case import new_case

__all__ = [
    "LoginView",
    "LogoutView",
    "add_note",
    "attachment",
    "case_page",
    "contact_page",
    "inbox",
    "inbox_counts_fragment",
    "merge",
    "message_original",
    "new_case",
    "open_thread",
    "reply",
    "update_header",
]
