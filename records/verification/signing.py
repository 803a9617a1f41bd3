"""The platform's Ed25519 signature over a report, and its offline check.

A signed report is one JSON document, itself canonical (keys sorted, no whitespace, UTF-8,
non-ASCII characters as they are)::

    {"algorithm":"Ed25519","key_id":"…","report":{…},"signature":"<base64>"}

The signature covers the canonical bytes of ``report``. ``verify_signed`` needs only the
document and the public key (no database, no settings): it re-serialises ``report`` and
checks the signature, and also that the document is byte for byte its own canonical form, so
a changed byte anywhere (a value, a key, the signature) is detected.

The key: ``VERIFY_SIGNING_KEY`` (config/settings.py), a PEM private key or the path of a
file holding one; ``manage.py signing_key`` writes a development key (``make seed``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "Ed25519"
PEM_BEGIN = "-----BEGIN"


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@functools.cache
def _load(setting: str) -> Ed25519PrivateKey:
    text = setting.strip()
    if not text.startswith(PEM_BEGIN):
        path = Path(text)
        if not path.is_file():
            raise ImproperlyConfigured(
                f"VERIFY_SIGNING_KEY: no file {path}; set it to an Ed25519 private key in PEM "
                "or the path of one (`python manage.py signing_key` writes a development key)"
            )
        text = path.read_text(encoding="ascii")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError as error:
        raise ImproperlyConfigured(f"VERIFY_SIGNING_KEY: not a PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("VERIFY_SIGNING_KEY: the key must be an Ed25519 key")
    return key


def platform_key() -> Ed25519PrivateKey:
    return _load(str(settings.VERIFY_SIGNING_KEY))


def sign(report: dict[str, Any], key: Ed25519PrivateKey | None = None) -> bytes:
    """The signed document's bytes (canonical JSON)."""
    key = key or platform_key()
    signature = key.sign(canonical(report))
    return canonical(
        {
            "algorithm": ALGORITHM,
            "key_id": key_id(key.public_key()),
            "report": report,
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


@dataclass(frozen=True)
class Checked:
    valid: bool
    message: str
    report: dict[str, Any] | None = None


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_signed(document: bytes, public_key: Ed25519PublicKey) -> Checked:  # noqa: PLR0911
    """Whether ``document`` is a signed report under ``public_key``, unchanged."""
    try:
        envelope = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Checked(False, "not a signed report: the file is not JSON in UTF-8")
    if not isinstance(envelope, dict) or set(envelope) != {
        "algorithm",
        "key_id",
        "report",
        "signature",
    }:
        return Checked(
            False, "not a signed report: expected algorithm, key_id, report and signature"
        )
    if envelope["algorithm"] != ALGORITHM:
        return Checked(False, f"unknown algorithm {envelope['algorithm']!r}; expected Ed25519")
    if canonical(envelope) != document.rstrip(b"\n"):
        return Checked(False, "the file was changed: it is not the canonical JSON that was signed")
    if envelope["key_id"] != key_id(public_key):
        return Checked(
            False,
            f"signed with another key (key id {envelope['key_id']}, this public key's is "
            f"{key_id(public_key)})",
        )
    try:
        signature = base64.b64decode(str(envelope["signature"]), validate=True)
        public_key.verify(signature, canonical(envelope["report"]))
    except (ValueError, InvalidSignature):
        return Checked(False, "the signature does not match the report: it was changed")
    report = envelope["report"]
    return Checked(True, "valid: signed by this key, unchanged", report)
