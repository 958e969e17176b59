"""The 门诊管理 service (门诊管理 Outpatient (OMS))."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.events import event_feed_router
from services.oms.api import internal, router
from services.oms.models import OutboxEvent


def create_app() -> FastAPI:
    return create_service_app(service="oms", archive="outpatient", title="门诊管理 Outpatient (OMS)",
                              routers=[router, internal, event_feed_router(OutboxEvent)])
