"""SLA: business-time calendars, policies and the clocks a case owes."""

from __future__ import annotations
