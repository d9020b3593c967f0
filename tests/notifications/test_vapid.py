"""api/notifications/vapid.py: the key comes from the environment, or is made once and kept."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from api.notifications.vapid import key_file, load_vapid, public_key
from api.settings import SettingsError, load_settings


def settings_for(tmp_path: Path, **env: str):
    return load_settings({"FIELDLOOP_VAR_DIR": str(tmp_path), **env})


def test_made_once_then_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = public_key(load_vapid(settings))
    assert public_key(load_vapid(settings)) == first
    assert key_file(settings).stat().st_mode & 0o777 == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: public_key(load_vapid(settings)), range(16)))
    assert len(keys) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key", "vapid_private.pem"]


def test_from_the_environment_as_pem_or_base64url(tmp_path: Path) -> None:
    vapid = Vapid()
    vapid.generate_keys()
    expected = public_key(vapid)
    pem = vapid.private_pem().decode()
    assert public_key(load_vapid(settings_for(tmp_path, FIELDLOOP_VAPID_PRIVATE_KEY=pem))) == (
        expected
    )
    der = vapid.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    text = base64.urlsafe_b64encode(der).rstrip(b"=").decode()
    given = load_vapid(settings_for(tmp_path, FIELDLOOP_VAPID_PRIVATE_KEY=text))
    assert public_key(given) == expected
    assert not key_file(settings_for(tmp_path)).exists()  # nothing generated


def test_a_bad_key_in_the_environment_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FIELDLOOP_VAPID_PRIVATE_KEY"):
        load_vapid(settings_for(tmp_path, FIELDLOOP_VAPID_PRIVATE_KEY="bm9wZQ"))
