"""Node settings: ``SEAWALL_*`` environment variables over ``<home>/seawall.toml``."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from seawall.errors import ConfigError

CONFIG_FILE = "seawall.toml"
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


def default_home() -> Path:
    """The node home: ``SEAWALL_HOME`` or ``./.seawall``."""
    return Path(os.environ.get("SEAWALL_HOME", ".seawall")).resolve()


class Settings(BaseSettings):
    """Every setting a node reads; each is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="SEAWALL_", extra="forbid")

    home: Path = Field(default_factory=default_home)
    database_url: str = ""
    nation: str = "JM"
    node_name: str = "Seawall node"
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    session_minutes: int = Field(default=480, ge=5)
    cookie_secure: bool = True
    login_max_failures: int = Field(default=5, ge=1)
    login_backoff_seconds: int = Field(default=30, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    login_address_max_failures: int = Field(default=10, ge=1)
    token_default_days: int = Field(default=90, ge=1)
    log_level: str = "info"
    log_json: bool = True
    language: Literal["en", "es", "fr", "nl"] = "en"
    restore_dir: Path | None = None
    secret_key: str = Field(default="", repr=False)
    # Schedules and alerts (docs/alerts.md).
    schedule_interval_seconds: int = Field(default=60, ge=0)
    embassy_passphrase_dir: Path | None = None
    # Bandwidth limits per embassy site in KiB/s (docs/embassy.md, thin links); None: none.
    embassy_limit_upload_kib: int | None = Field(default=None, ge=1)
    embassy_limit_download_kib: int | None = Field(default=None, ge=1)
    alert_webhook_urls: list[str] = Field(default_factory=list, repr=False)
    alert_webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    alert_smtp_host: str = ""
    alert_smtp_port: int = Field(default=587, ge=1, le=65535)
    alert_smtp_starttls: bool = True
    alert_smtp_username: str = ""
    alert_smtp_password: str = Field(default="", repr=False)
    alert_smtp_from: str = ""
    alert_smtp_to: list[str] = Field(default_factory=list)

    @field_validator("nation")
    @classmethod
    def _upper_nation(cls, value: str) -> str:
        return value.strip().upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _home_from(init_settings) / CONFIG_FILE
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_path))

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the node home."""
        return self.database_url or f"sqlite:///{self.home / 'seawall.db'}"

    @property
    def effective_restore_dir(self) -> Path:
        """Where the web UI restores snapshots: ``SEAWALL_RESTORE_DIR`` or ``restores`` in
        the home. (The CLI, run by someone with a shell on the node, restores anywhere.)"""
        return self.restore_dir or self.home / "restores"

    @property
    def effective_passphrase_dir(self) -> Path:
        """Where scheduled runs read each repository's passphrase (a file named after it)."""
        return self.embassy_passphrase_dir or self.home / "passphrases"

    @property
    def effective_secret_key(self) -> bytes:
        """The node secret: ``SEAWALL_SECRET_KEY`` or the key file in the home."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.home / SECRET_FILE
        if not path.exists():
            return b""
        return path.read_bytes().strip()


def _home_from(init_settings: PydanticBaseSettingsSource) -> Path:
    given: dict[str, Any] = init_settings()
    home = given.get("home") or os.environ.get("SEAWALL_HOME") or ".seawall"
    return Path(home).resolve()


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning a bad value into one clear line."""
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{CONFIG_FILE} in the node home is not valid TOML ({exc}); fix or remove it"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"setting {where!r} is invalid: {first['msg']}; "
            f"fix SEAWALL_{where.upper()} or {CONFIG_FILE} in the node home"
        ) from None


def node_config(home: Path) -> dict[str, Any]:
    """What the home's config file says (nothing when there is none)."""
    config = home / CONFIG_FILE
    if not config.exists():
        return {}
    try:
        return tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config} is not valid TOML ({exc}); fix or remove it") from None


def make_home(home: Path) -> None:
    """Create the node home, or make an existing one private: mode 0700, for it holds the
    secret key and, by default, the database."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        home.chmod(0o700)
    except PermissionError:
        raise ConfigError(
            f"cannot make the node home {home} private (mode 0700): it belongs to another "
            "user; run Seawall as its owner or give SEAWALL_HOME a home of your own"
        ) from None


def write_node_files(settings: Settings, values: dict[str, Any]) -> None:
    """Create the home (mode 0700) with its config file and a fresh secret key, both mode
    0600 (the config may hold a database URL with its password)."""
    make_home(settings.home)
    config = settings.home / CONFIG_FILE
    existing = node_config(settings.home)
    existing.update({k: v for k, v in values.items() if v is not None})
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(tomli_w.dumps(existing))
    secret = settings.home / SECRET_FILE
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
