"""Assembles the FastAPI app: lifespan (load once), middleware, routers. No logic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from PIL import Image

from app.access import AccessMiddleware, Gate, document
from app.auth import warn_if_open
from app.body_limits import UploadLimitMiddleware
from app.config import Settings
from app.deps import Offload
from app.docs import offline_app
from app.errors import install_error_handlers
from app.jobs import JOBS_FILE, JobQueue
from app.methods import ImplicitMethodsMiddleware
from app.metrics import AppMetrics, MetricsMiddleware
from app.routes import frames, health, identify, jobs, me, page, titles
from app.services import Services, open_services
from app.sources import drop_orphans
from app.uploads import FORM_OVERHEAD_BYTES, MAX_FILES_PER_ADD, UploadLimits, clear_spool

DESCRIPTION = """Identify an anime from one screenshot: the title, where possible the episode and
the second, a confidence, the title vote and the nearest reference frames; `match` is null when
nothing in the catalog is close. Add titles from screenshots or episodes without retraining."""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app for `settings`; pass `services` to share an already loaded model (tests, CLI).

    Injected services stay the caller's to close; otherwise they are opened and closed here.
    """
    settings = settings or (services.settings if services is not None else Settings())
    metrics = AppMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The one pool for the app's blocking work, from loading the model to closing the queue.
        executor = ThreadPoolExecutor(
            settings.resolved_offload_threads, thread_name_prefix="shazam-offload"
        )
        offload = Offload(executor)
        owned = services is None
        try:
            ready = services if services is not None else await offload(open_services, settings)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        # PIL's own bomb guard is process-wide; the upload check in app.uploads is per app.
        Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
        clear_spool(settings.data_dir)
        drop_orphans(ready.store, settings.data_dir)
        warn_if_open(settings)
        job_queue = JobQueue(settings.data_dir / JOBS_FILE, max_pending=settings.max_queued_jobs)
        app.state.settings = settings
        app.state.services = ready
        app.state.jobs = job_queue
        app.state.offload = offload
        app.state.metrics = metrics
        if ready.identifier.title_head is not None:
            ready.identifier.title_head.refresh()  # fit the title model off the start path
        try:
            yield
        finally:
            await offload(job_queue.close)
            # Checkpoint now, whoever owns the services: a stop must never leave a stale index.
            await offload(ready.store.save)
            executor.shutdown(wait=True)
            if owned:
                ready.close()

    app = offline_app(
        title="ShazamAnime",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
    )
    app.add_middleware(
        UploadLimitMiddleware,
        limits={
            "/identify": (
                settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
                "SHAZAM_MAX_UPLOAD_BYTES",
            ),
            # One add may carry one video as large as allowed, or a full batch of images.
            "/titles": (
                max(settings.max_video_bytes, settings.max_upload_bytes * MAX_FILES_PER_ADD)
                + FORM_OVERHEAD_BYTES,
                "SHAZAM_MAX_VIDEO_BYTES",
            ),
        },
        body_timeout=settings.body_timeout,
        part_limits={"/titles": UploadLimits.of(settings)},
    )
    gate = Gate(settings)
    app.state.gate = gate
    app.add_middleware(AccessMiddleware, gate=gate)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    build_schema = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(build_schema(), gate)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    install_error_handlers(app)
    app.add_middleware(ImplicitMethodsMiddleware)
    if settings.cors_origins:  # outermost: it answers browsers' preflight OPTIONS itself
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )

    app.include_router(identify.router)
    app.include_router(titles.router)
    app.include_router(titles.write_router)
    app.include_router(jobs.router)
    app.include_router(frames.router)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(page.router)
    app.mount(page.ASSETS_PATH, page.assets(), name="web")
    return app
