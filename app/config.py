"""All runtime settings in one place, read from the environment (prefix SHAZAM_)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.query.params import IdentifyParams

# The decision thresholds' defaults live in index/query/params.py (docs/calibration.md); taking
# them from there keeps one source of truth. (IdentifyParams has slots: read from an instance.)
_IDENTIFY = IdentifyParams()


class Settings(BaseSettings):
    """Settings for the server and the command line; every field is `SHAZAM_<NAME>` in the env."""

    model_config = SettingsConfigDict(env_prefix="SHAZAM_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("data"), description="Catalog, vector index and frame thumbnails.")
    model: str = Field(
        "efficientnet-lite0",
        description="Built-in backbone (efficientnet-lite0/1/2, resnet50) or exported .keras path.",
    )
    cache_dir: Path | None = Field(
        None, description="Where built models are cached; default ~/.cache/shazam-anime."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_key: SecretStr | None = Field(None, description="Bearer key required for writes when set.")
    api_keys_file: Path | None = Field(
        None, description="JSON list of keys: name, key, access (read/write), identify_per_day."
    )
    require_key_for_reads: bool = Field(False, description="Every API request needs a key.")
    rate_limit: str = Field(
        "600/minute", description="Requests per client (key or IP), e.g. 10/second; empty: off."
    )
    identify_quota: int = Field(0, ge=0, description="Identifies per caller per day; 0: no quota.")
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send the request line and headers."
    )
    body_timeout: float = Field(
        30.0, gt=0, description="Longest pause, in seconds, between two pieces of a body."
    )
    max_queued_jobs: int = Field(
        8, ge=1, description="Video adds waiting or running; more are refused with 503."
    )
    max_concurrent_uploads: int = Field(8, ge=1, description="Uploads received at once.")
    allow_open_writes: bool = Field(
        False, description="Allow serving on a non-loopback address with no write key."
    )

    max_upload_bytes: int = Field(25 * 1024 * 1024, gt=0, description="Per uploaded image.")
    max_video_bytes: int = Field(
        4 * 1024**3, gt=0, description="Per uploaded video (streamed to disk, never held)."
    )
    max_image_pixels: int = Field(40_000_000, gt=0, description="Decompression-bomb guard.")
    max_image_bytes: int = Field(
        100 * 1024 * 1024, gt=0, description="Most memory one image may take decoded."
    )

    hnsw_m: int = Field(16, ge=4, le=128)
    hnsw_ef_construction: int = Field(200, ge=10)
    hnsw_ef: int = Field(128, ge=10)
    index_dims: int = Field(
        192,
        ge=0,
        le=4096,
        description="Dimensions the vector index holds of each embedding (a fixed PCA; its short "
        "list is re-scored with the catalog's full vectors); 0: all. A catalog keeps the "
        "projection it was given first (docs/compact.md: 192 keeps more of real footage's "
        "true neighbours in the short list than 128, within the memory budget).",
    )

    vector_backend: Literal["hnswlib", "milvus"] = Field(
        "hnswlib", description="Vector engine: embedded hnswlib, or Milvus (see milvus_*)."
    )
    milvus_uri: str = Field(
        "",
        description="A file path runs embedded milvus-lite; http://host:19530 a Milvus server. "
        "Empty: DATA_DIR/milvus.db.",
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus `user:password` or token.")
    milvus_collection: str = Field(
        "shazam_frames", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Collection name prefix."
    )
    milvus_index_type: str = Field(
        "HNSW", description="Milvus index type: HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ, FLAT..."
    )
    milvus_index_params: dict[str, int | float | str] = Field(
        {"M": 16, "efConstruction": 200}, description="Build parameters (JSON) for that index."
    )
    milvus_search_params: dict[str, int | float | str] = Field(
        {"ef": 128}, description='Search parameters (JSON), e.g. {"nprobe": 16} for IVF.'
    )

    inference_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="LiteRT threads inside one model call; 0 = one per CPU core.",
    )
    offload_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="Threads of the app's pool for blocking work (decoding, embedding, search, "
        "catalog reads); 0 = min(8, max(2, CPU cores)).",
    )

    sample_fps: float = Field(
        2.0,
        gt=0,
        le=30,
        description="Most video frames kept per second, in fast action: a frame is kept where the "
        "picture changes, so a still shot keeps one.",
    )
    embed_batch_size: int = Field(16, ge=1, le=256)

    top_k: int = Field(5, ge=1, le=50, description="Default number of titles in the vote.")
    search_k: int = Field(
        _IDENTIFY.search_k, ge=1, le=1000, description="Frames fetched from the index per query."
    )
    # Decision thresholds: unset, each comes from the catalog's calibration (`shazam-anime
    # calibrate`), else the model's own (an exported model's .json), else the defaults measured
    # for Lite0 (docs/calibration.md). Set, it wins over all of them.
    min_similarity: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Below this best-frame similarity there is no frame match.",
    )
    min_margin: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Confidence lead over the runner-up title required to answer.",
    )
    min_title_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Title model probability required for a title-level answer.",
    )
    min_title_similarity: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Title gate required for a title-level answer: the palette similarity of "
        "the query to the title's nearest frame blended with the title model's probability.",
    )

    seed_demo: bool = Field(True, description="Seed a small demo catalog into an empty catalog.")

    keep_sources: bool = Field(
        True, description="Keep videos added over HTTP under DATA_DIR/sources for preview clips."
    )
    fetch_allow_private: bool = Field(
        False, description="Let identify fetch URLs on loopback, private or link-local addresses."
    )
    fetch_timeout_s: float = Field(10.0, gt=0, le=120, description="Time limit of a URL fetch.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (comma-separated, or *).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: object) -> object:
        # An empty SHAZAM_API_KEY (e.g. `SHAZAM_API_KEY=` in .env) means no key, not the key "".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            from limits import parse

            parse(value)  # ValueError: "couldn't parse rate limit string ..."
        return value.strip()

    @field_validator("data_dir", "cache_dir", "api_keys_file")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or Path.home() / ".cache" / "shazam-anime"

    @property
    def resolved_offload_threads(self) -> int:
        # Enough to decode one upload while another is embedded; TensorFlow already uses every
        # core inside one call, so more would only queue in memory.
        return self.offload_threads or min(8, max(2, os.cpu_count() or 2))
