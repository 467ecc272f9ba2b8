"""Prometheus metrics on a per-app registry, and the middleware that times every request."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.types import StoreStats

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class AppMetrics:
    """One registry per app, so several apps in one process (tests) never share series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "shazam_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shazam_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.identify_outcomes = Counter(
            "shazam_identify",
            "Identify answers by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("match", "unknown"):
            self.identify_outcomes.labels(outcome)  # export zeros before the first query
        self.titles = Gauge(
            "shazam_catalog_titles", "Titles in the catalog.", registry=self.registry
        )
        self.frames = Gauge("shazam_catalog_frames", "Reference frames.", registry=self.registry)

    def record_identify(self, matched: bool) -> None:
        self.identify_outcomes.labels("match" if matched else "unknown").inc()

    def render(self, stats: StoreStats) -> bytes:
        """The exposition text; catalog gauges are read at scrape time so they are never stale."""
        self.titles.set(stats.titles)
        self.frames.set(stats.frames)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times requests under the route template (`/titles/{title_id}`), never the raw
    path, so ids do not explode the label space; unmatched paths share one label."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
