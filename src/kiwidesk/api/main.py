"""The HTTP API under /api/v1."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Kiwidesk API", version="1", urls_namespace="api", docs_url="/docs")
