"""The 排班管理 service (排班管理 Scheduling (DMS))."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.events import event_feed_router
from services.dms.api import internal, router
from services.dms.models import OutboxEvent


def create_app() -> FastAPI:
    return create_service_app(service="dms", archive="scheduling", title="排班管理 Scheduling (DMS)",
                              routers=[router, internal, event_feed_router(OutboxEvent)])
