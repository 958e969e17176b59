"""The data center service (数据中心, DBS)."""

from __future__ import annotations

from fastapi import FastAPI

from common.app import create_service_app
from common.events import event_feed_router
from services.dbs.api import internal, router
from services.dbs.models import OutboxEvent


def create_app() -> FastAPI:
    return create_service_app(service="dbs", archive="datacenter", title="数据中心 Data center (DBS)",
                              routers=[router, internal, event_feed_router(OutboxEvent)])
