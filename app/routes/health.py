"""GET /health and GET /metrics: liveness, catalog size and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.deps import MetricsDep, OffloadDep, ServicesDep, StoreDep
from app.schemas import Health, Threshold, TitleHeadStatus

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health)
async def health(services: ServicesDep, offload: OffloadDep) -> Health:
    stats = await offload(services.store.stats)
    head = services.identifier.title_head
    params = services.identifier.params
    model = head.model if head is not None else None  # a stale head starts its refit here
    return Health(
        status="ok",
        titles=stats.titles,
        frames=stats.frames,
        model=services.embedder.name,
        dim=services.embedder.dim,
        title_head=TitleHeadStatus(
            current=head is not None and head.current,
            titles=len(model.names) if model is not None else 0,
        ),
        thresholds={
            key: Threshold(value=getattr(params, key), source=source)
            for key, source in services.threshold_sources.items()
        },
        vector_backend=str(stats.extra["vector_backend"]),
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
async def metrics(store: StoreDep, app_metrics: MetricsDep, offload: OffloadDep) -> Response:
    body = app_metrics.render(await offload(store.stats))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
