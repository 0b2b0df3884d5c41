"""configs/serve.yaml: how `lifecycle serve` listens, batches and limits requests.

Every field has a safe default (loopback only, no key required unless the key's environment
variable is set), so the file is optional; command-line flags override it."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from lifecycle.config.yaml_io import load_config


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Interface to bind; 0.0.0.0 exposes the server to the network.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0: pick a free one).")
    model_name: Optional[str] = Field(default=None, description="Name clients send as `model` (default: the run id, "
                                      "else the project's model id).")
    max_batch_size: int = Field(default=16, ge=1, le=1024, description="Requests generated together at most.")
    max_wait_ms: float = Field(default=10.0, ge=0, le=10_000, description="How long the first request of a batch "
                               "waits for others to join.")
    max_queue: int = Field(default=256, ge=1, le=100_000, description="Requests waiting at most; more get HTTP 503.")
    max_tokens_cap: int = Field(default=512, ge=1, le=32768, description="Largest `max_tokens` a request may ask for.")
    default_max_tokens: Optional[int] = Field(default=None, ge=1, le=32768, description="`max_tokens` when a request "
                                              "gives none (default: configs/generation.yaml max_new_tokens).")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=1 << 30, description="Largest request body.")
    request_timeout_s: float = Field(default=120.0, gt=0, le=86_400, description="A request waiting longer gets HTTP 504.")
    api_key_env: str = Field(default="LIFECYCLE_API_KEY", description="Environment variable holding the bearer key; "
                             "when it is set, every /v1 request must send `Authorization: Bearer <key>`.")
    graceful_shutdown_s: float = Field(default=30.0, ge=0, le=3600, description="On SIGTERM, how long in-flight "
                                       "requests may take to finish.")


def load_serve_config(project, path=None, overrides: dict | None = None) -> ServeConfig:
    """configs/serve.yaml (or `path`) when present, else the defaults; non-None `overrides` (flags) win."""
    file = path or project.path("configs/serve.yaml")
    cfg = load_config(file, ServeConfig) if path is not None or file.is_file() else ServeConfig()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return ServeConfig.model_validate({**cfg.model_dump(exclude_unset=True), **given}) if given else cfg
