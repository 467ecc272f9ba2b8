# ShazamAnime API image. Build: docker build -t shazam-anime .   Run: docker compose up
# Two environments are installed in the builder stage, which has the C++ compiler hnswlib needs:
# /opt/venv, the serving install (`pip install .`: LiteRT, no TensorFlow), the only one shipped;
# /opt/convert, the quick start's `pip install '.[tf]'`, used once to build and convert the model.

FROM python:3.11-slim-bookworm AS build
# HNSWLIB_NO_NATIVE: no -march=native, so the image runs on any x86-64 CPU, not only on CPUs
# like the build machine's (an AVX-512 build dies with "illegal instruction" elsewhere).
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HNSWLIB_NO_NATIVE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY index ./index
COPY model ./model
COPY training ./training
COPY synthetic ./synthetic
# hnswlib is built once, portably, and both environments install that wheel.
RUN pip wheel --no-deps --wheel-dir /wheels hnswlib
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --find-links=/wheels .
RUN python -m venv /opt/convert \
    && /opt/convert/bin/pip install --find-links=/wheels '.[tf]'
# Bake the default model in: build it from the packaged weights and convert it to LiteRT now
# (checked against Keras), so a container never needs TensorFlow, a download or a rebuild.
ENV SHAZAM_CACHE_DIR=/opt/models TF_CPP_MIN_LOG_LEVEL=2
RUN /opt/convert/bin/shazam-anime prepare-model \
    && rm -f /opt/models/*.keras

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
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
