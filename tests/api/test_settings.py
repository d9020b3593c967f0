"""api/settings.py: defaults that make the demo work, clear errors for bad values."""

from pathlib import Path

import pytest

from api.settings import ENVIRONMENT, SettingsError, load_settings


def test_defaults_give_a_sqlite_file_and_a_kept_secret(tmp_path: Path) -> None:
    settings = load_settings({"FIELDLOOP_VAR_DIR": str(tmp_path)})
    assert settings.database_url == "sqlite:///var/fieldloop.sqlite3"
    assert not settings.is_postgres
    assert len(settings.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    again = load_settings({"FIELDLOOP_VAR_DIR": str(tmp_path)})
    assert again.secret_key == settings.secret_key  # tokens survive a restart


def test_postgres_url_is_recognised(tmp_path: Path) -> None:
    settings = load_settings(
        {"FIELDLOOP_DATABASE_URL": "postgresql://u@h/db", "FIELDLOOP_VAR_DIR": str(tmp_path)}
    )
    assert settings.is_postgres


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FIELDLOOP_DATABASE_URL", "mysql://x/y", "must start with sqlite:/// or postgresql://"),
        ("FIELDLOOP_SECRET_KEY", "short", "at least 32 characters"),
        ("FIELDLOOP_TOKEN_HOURS", "soon", "whole number"),
        ("FIELDLOOP_TOKEN_HOURS", "0", "positive"),
        ("FIELDLOOP_SQLITE_TIMEOUT", "long", "seconds"),
        ("FIELDLOOP_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as error:
        load_settings({name: value, "FIELDLOOP_VAR_DIR": str(tmp_path)})
    assert name in str(error.value) or name == "FIELDLOOP_DATABASE_URL"


def test_every_variable_has_help_text() -> None:
    for name, (attribute, _default, help_text) in ENVIRONMENT.items():
        assert name.startswith("FIELDLOOP_")
        assert attribute and help_text
