"""The instance's VAPID key pair (RFC 8292): push services know our messages by its signature.

Taken from `FIELDLOOP_VAPID_PRIVATE_KEY` (PEM, or base64url DER/raw as `vapid --gen` prints)
when set; otherwise generated once into `var/vapid_private.pem` (mode 0600) and kept, because
every browser subscription is bound to the public key it was made with: a new key orphans them
all. Several API processes and workers must therefore share the variable or the file.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, VapidException

from api.settings import Settings, SettingsError


def key_file(settings: Settings) -> Path:
    return settings.var_dir / "vapid_private.pem"


def load_vapid(settings: Settings) -> Vapid:
    """The signing key: from the environment, from var/, or new (and saved to var/)."""
    if settings.vapid_private_key:
        given = settings.vapid_private_key.strip()
        try:
            if given.startswith("-----BEGIN"):
                return Vapid.from_pem(given.encode())
            return Vapid.from_string(given)
        except (VapidException, ValueError, TypeError) as error:
            raise SettingsError(
                "FIELDLOOP_VAPID_PRIVATE_KEY is not a P-256 private key (PEM or base64url)"
            ) from error
    path = key_file(settings)
    if path.exists():
        return Vapid.from_pem(path.read_bytes())
    vapid = Vapid()
    vapid.generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    # written aside, then linked into place: two processes starting at once agree on one key
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(vapid.private_pem())
    try:
        os.link(draft, path)
    except FileExistsError:
        return Vapid.from_pem(path.read_bytes())
    finally:
        draft.unlink()
    return vapid


def public_key(vapid: Vapid) -> str:
    """The public key as browsers want it for `applicationServerKey`: base64url, no padding,
    of the uncompressed point."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
