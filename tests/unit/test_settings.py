"""Settings come from SEAWALL_* over seawall.toml; bad values are one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.errors import ConfigError
from seawall.settings import load_settings


def test_toml_in_home_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "seawall.toml").write_text('nation = "bb"\nport = 9001\n')
    settings = load_settings(home=tmp_path)
    assert (settings.nation, settings.port) == ("BB", 9001)
    monkeypatch.setenv("SEAWALL_PORT", "9002")
    assert load_settings(home=tmp_path).port == 9002


def test_sqlite_in_home_is_the_default(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'seawall.db'}"


def test_bad_value_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAWALL_PORT", "eighty")
    with pytest.raises(ConfigError, match="setting 'port' is invalid") as caught:
        load_settings(home=tmp_path)
    assert "\n" not in str(caught.value)
