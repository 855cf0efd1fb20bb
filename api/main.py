"""FastAPI application: wiring only (lifespan resources, middleware, routers, errors)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from activities.publisher import Publisher
from api import pages
from api.auth.users import ensure_bootstrap_supervisor
from api.errors import install_error_handlers
from api.limits import install_limits
from api.live import LiveHub
from api.maintenance import MaintenanceMiddleware
from api.metrics import MetricsMiddleware
from api.resources import DB_TIMEOUTS, Resources, TemporalHolder
from api.routes import (
    actuator,
    advisor_desk,
    auth,
    branches,
    live,
    management,
    operations,
    public,
    supervision,
    telegram_webhook,
    ticket_actions,
    tickets,
)
from api.security_headers import ConfigurableCORSMiddleware, SecurityHeadersMiddleware
from api.services import adoption
from db.engine import make_engine
from observability.logs import setup_logging
from settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging(
            "api",
            cfg.log_level,
            cfg.log_format,
            cfg.log_dir if cfg.log_to_file else None,
        )
        engine = make_engine(cfg, timeouts=DB_TIMEOUTS)
        probe_engine = make_engine(cfg, timeouts=DB_TIMEOUTS, probe=True)
        publisher = Publisher(cfg.rabbitmq_url.get_secret_value(), cfg.rabbitmq_exchange)
        res = app.state.resources = Resources(
            settings=cfg,
            engine=engine,
            temporal=TemporalHolder(cfg),
            probe_engine=probe_engine,
            publisher=publisher,
        )
        app.state.live = LiveHub(cfg.rabbitmq_url.get_secret_value(), cfg.rabbitmq_exchange)
        await ensure_bootstrap_supervisor(engine, cfg)
        sweep = (
            asyncio.create_task(adoption.sweep_forever(res))
            if cfg.ticket_adoption_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if sweep is not None:
                sweep.cancel()
            await res.drain()
            await publisher.close()
            await app.state.live.close()
            await engine.dispose()
            await probe_engine.dispose()

    app = FastAPI(
        title="Ticketero API",
        version="0.1.0",
        description="Queue tickets for bank branches. Customer text is Spanish (Chile).",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are pages (api.pages.docs), from packaged assets
        redoc_url=None,
    )
    # Operators must reach their tools while the application is in maintenance.
    app.add_middleware(MaintenanceMiddleware, exempt_prefixes=("/api/auth/", "/api/operations/"))
    app.add_middleware(MetricsMiddleware)
    install_limits(app, cfg)  # resolves the client address before the routes
    app.add_middleware(ConfigurableCORSMiddleware, settings=cfg)
    app.add_middleware(SecurityHeadersMiddleware, settings=cfg)
    install_error_handlers(app)
    app.include_router(tickets.router)
    app.include_router(actuator.router)
    app.include_router(auth.router)
    app.include_router(ticket_actions.router)
    app.include_router(advisor_desk.router)
    app.include_router(live.router)
    app.include_router(supervision.router)
    app.include_router(management.router)
    app.include_router(branches.router)
    app.include_router(operations.router)
    app.include_router(telegram_webhook.router)
    app.include_router(public.router)
    pages.install(app)
    return app


app = create_app()
