"""Settings shared by every component, read from `HAP_*` environment variables.

The runtime mode (embedded default, production, tests) only changes these values; the code path is the same.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAP_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    # The address others reach this process at, when it listens on all interfaces (e.g. a container's IP).
    advertise_host: str = ""
    port: int = 8000
    timezone: str = "Asia/Shanghai"
    log_level: str = "info"
    log_dir: Path | None = None

    # Database: a MySQL/MariaDB server URL without a schema (each service appends `hap_<name>`);
    # empty means the embedded default, one SQLite file per service under data_dir.
    db_primary_url: str = ""
    db_replica_url: str = ""
    # Schemas are `<prefix><service>` (hap_dbs, hap_auth, …); a test run may use its own prefix.
    db_schema_prefix: str = "hap_"
    db_pool_size: int = 10
    # Threads for sync endpoints. Few threads spend less time contending for the GIL than the default 40.
    worker_threads: int = 16
    replica_max_lag_seconds: float = 5.0
    replica_probe_seconds: float = 1.0

    # Cache: Redis behind Sentinel; empty means an in-process cache.
    redis_sentinels: str = ""
    redis_master_name: str = "hapredis"
    redis_password: str = ""
    redis_sentinel_password: str = ""  # Sentinels may have their own password, or none
    cache_ttl_seconds: int = 60

    # Object store (always spoken to through the minio SDK).
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "hap-archive"
    s3_secure: bool = False

    # Registry: Consul's own variable wins so a real agent can be pointed at unchanged.
    registry_url: str = Field(
        default="http://127.0.0.1:8500", validation_alias=AliasChoices("CONSUL_HTTP_ADDR", "HAP_REGISTRY_URL")
    )
    check_interval: str = "1s"
    deregister_critical_after: str = "30s"
    drain_seconds: float = 1.5

    # Tokens: where services find the gateway (JWKS, revocations, service tokens).
    gateway_url: str = "http://127.0.0.1:8000"
    jwt_issuer: str = "hap-gateway"
    jwt_audience: str = "hap"
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    service_secret: str = ""
    admin_username: str = "admin"
    admin_password: str = ""
    ui_dir: Path = Path("frontend/dist")
    # A service that has not heard from the revocation feed for this long refuses every token (the feed's
    # long polls answer at least every 20 s).
    revocation_stale_seconds: float = 30.0

    # Service client (shared by the gateway's proxy and service-to-service calls).
    client_timeout_seconds: float = 5.0
    breaker_failures: int = 5
    breaker_reset_seconds: float = 10.0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def redis_sentinel_hosts(self) -> list[tuple[str, int]]:
        hosts = []
        for item in filter(None, (part.strip() for part in self.redis_sentinels.split(","))):
            host, _, port = item.rpartition(":")
            hosts.append((host, int(port)))
        return hosts

    @property
    def registry_base(self) -> str:
        url = self.registry_url
        return url if "://" in url else f"http://{url}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
