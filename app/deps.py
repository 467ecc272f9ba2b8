"""Typed dependencies: routes reach the parts built in `lifespan` through these, never globals."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from app.config import Settings
from app.jobs import JobQueue
from app.metrics import AppMetrics
from app.services import Services
from index.ingest.ingestor import Ingestor
from index.query.identify import Identifier
from index.store.frame_store import FrameStore
from model.base import Embedder

T = TypeVar("T")


class Offload:
    """Runs blocking work (the model, hnswlib, PIL, disk) on the app's bounded thread pool, so
    the event loop keeps serving /health and polls while a query is being embedded."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor

    async def __call__(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )


# The getters are `async` though they only read app state: FastAPI runs a plain `def` dependency
# on its thread pool, a thread hop each (five per identify; docs/serving.md, "What is left
# outside the forward pass").
async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_embedder(request: Request) -> Embedder:
    return request.app.state.services.embedder


async def get_store(request: Request) -> FrameStore:
    return request.app.state.services.store


async def get_identifier(request: Request) -> Identifier:
    return request.app.state.services.identifier


async def get_ingestor(request: Request) -> Ingestor:
    return request.app.state.services.ingestor


async def get_jobs(request: Request) -> JobQueue:
    return request.app.state.jobs


async def get_metrics(request: Request) -> AppMetrics:
    return request.app.state.metrics


async def get_offload(request: Request) -> Offload:
    return request.app.state.offload


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
StoreDep = Annotated[FrameStore, Depends(get_store)]
IdentifierDep = Annotated[Identifier, Depends(get_identifier)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
JobsDep = Annotated[JobQueue, Depends(get_jobs)]
MetricsDep = Annotated[AppMetrics, Depends(get_metrics)]
OffloadDep = Annotated[Offload, Depends(get_offload)]
