# ShazamAnime API image. Build: docker build -t shazam-anime .   Run: docker compose up
# The install step is the README's (`pip install .` of this pyproject), run in a builder stage
# because hnswlib ships only as source and needs a C++ compiler that the runtime image omits.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY index ./index
COPY model ./model
COPY training ./training
COPY synthetic ./synthetic
RUN pip install .
# Bake the default model in: build it from the packaged weights now, so a container never
# downloads or rebuilds anything at start.
ENV SHAZAM_CACHE_DIR=/opt/models TF_CPP_MIN_LOG_LEVEL=2
RUN shazam-anime prepare-model

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SHAZAM_HOST=0.0.0.0 \
    SHAZAM_PORT=8000 \
    SHAZAM_DATA_DIR=/data \
    SHAZAM_CACHE_DIR=/opt/models
RUN useradd --create-home --uid 10001 shazam \
    && mkdir -p /data \
    && chown shazam:shazam /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
USER shazam
WORKDIR /home/shazam
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('SHAZAM_PORT', '8000'), timeout=4)"]
CMD ["shazam-anime", "serve"]
