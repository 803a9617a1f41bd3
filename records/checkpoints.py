"""Signed checkpoints of the audit chains' heads, kept outside the database.

``verify_chains`` cannot see a chain rewritten whole by someone who can write the database:
rows, recomputed hashes and head together. A checkpoint can: ``checkpoint_write`` signs every
chain's head (subject, seq, hash) with an Ed25519 key the database never holds
(``AUDIT_CHECKPOINT_KEY``) and writes it to a file in ``AUDIT_CHECKPOINT_DIR``;
``checkpoint_break`` then requires each of those rows to be there still with exactly that
hash. With the hash chain behind each row (checked by ``verify_chains``), that pins the whole
history before the checkpoint: a rewrite or a removal shows, recomputed hashes or not.

The file is JSON: ``format``, ``created``, ``chains`` (how many), ``digest`` (SHA-256 of the
sorted heads, one ``subject seq hash`` line each: short enough to copy elsewhere),
``heads`` (``[subject, seq, hash]``, sorted), ``public_key`` (of the signer, for the reader)
and ``signature`` (over the canonical JSON of everything else). Verification trusts only the
configured key (``AUDIT_CHECKPOINT_PUBLIC_KEY``, or the one derived from
``AUDIT_CHECKPOINT_KEY``), never the file's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from records.audit import ChainBreak
from records.audit import subject_label
from records.models import AuditEvent
from records.models import AuditHead

FORMAT = "xueji-audit-checkpoint/1"
SIGNATURE_INVALID = "checkpoint signature invalid"
KEY_FORMAT = "the base64 of its 32 raw bytes, or PEM"
CHUNK = 1000

Head = tuple[str, int, str]  # subject ("app_label.model:id"), seq, hash


class CheckpointError(Exception):
    """A checkpoint cannot be written or read; the message names the setting or file."""


def generate_key() -> tuple[str, str]:
    """A new private key and its public key, each as the base64 of its raw bytes."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode(), _public_text(key.public_key())


def _public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _private_key() -> Ed25519PrivateKey:
    text = settings.AUDIT_CHECKPOINT_KEY.strip()
    if not text:
        raise CheckpointError(
            "AUDIT_CHECKPOINT_KEY is not set: generate a key with "
            "`manage.py audit_checkpoint --generate-key`"
        )
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise CheckpointError(
            f"AUDIT_CHECKPOINT_KEY is not an Ed25519 private key ({KEY_FORMAT}): {exc}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"AUDIT_CHECKPOINT_KEY is not an Ed25519 private key ({KEY_FORMAT})")
    return key


def _public_key() -> Ed25519PublicKey:
    text = settings.AUDIT_CHECKPOINT_PUBLIC_KEY.strip()
    if not text:
        if not settings.AUDIT_CHECKPOINT_KEY.strip():
            raise CheckpointError(
                "verifying a checkpoint needs AUDIT_CHECKPOINT_PUBLIC_KEY "
                "(or AUDIT_CHECKPOINT_KEY, whose public key it derives)"
            )
        return _private_key().public_key()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise CheckpointError(
            f"AUDIT_CHECKPOINT_PUBLIC_KEY is not an Ed25519 public key ({KEY_FORMAT}): {exc}"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(
            f"AUDIT_CHECKPOINT_PUBLIC_KEY is not an Ed25519 public key ({KEY_FORMAT})"
        )
    return key


def _directory() -> Path:
    text = settings.AUDIT_CHECKPOINT_DIR.strip()
    if not text:
        raise CheckpointError(
            "AUDIT_CHECKPOINT_DIR is not set: name a directory outside the database's host"
        )
    path = Path(text)
    if not path.is_dir():
        raise CheckpointError(f"AUDIT_CHECKPOINT_DIR {text!r} is not an existing directory")
    return path


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def heads_digest(heads: Sequence[Head]) -> str:
    lines = "".join(f"{subject} {seq} {hash_}\n" for subject, seq, hash_ in heads)
    return hashlib.sha256(lines.encode()).hexdigest()


def current_heads() -> list[Head]:
    """Every chain's head, in one query (one snapshot), sorted by subject."""
    rows = AuditHead.objects.values_list("subject_type_id", "subject_id", "seq", "hash")
    return sorted(
        (f"{subject_label(type_id)}:{subject_id}", seq, hash_)
        for type_id, subject_id, seq, hash_ in rows.iterator(chunk_size=5000)
    )


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest checkpoint in ``directory`` (their names sort by time)."""
    return max(directory.glob("audit-checkpoint-*.json"), default=None)


def checkpoint_write() -> Path:
    """Sign the heads of every chain and write them to a new file in
    ``AUDIT_CHECKPOINT_DIR``; return its path.

    The newest checkpoint already there must still hold first: a history rewritten since is
    never signed again, so each checkpoint vouches for every one before it, and verifying
    the latest is enough. (After a key change, move the old ones out of the directory.)
    """
    key = _private_key()
    directory = _directory()
    previous = latest_checkpoint(directory)
    if previous is not None:
        broken = checkpoint_break(checkpoint_read(previous))
        if broken is not None:
            raise CheckpointError(
                f"{previous} no longer holds, so no new checkpoint was written: {broken}"
            )
    heads = current_heads()
    created = timezone.now()
    body: dict[str, Any] = {
        "format": FORMAT,
        "created": created.isoformat(timespec="microseconds"),
        "chains": len(heads),
        "digest": heads_digest(heads),
        "heads": [list(head) for head in heads],
        "public_key": _public_text(key.public_key()),
    }
    document = {**body, "signature": base64.b64encode(key.sign(_canonical(body))).decode()}
    path = directory / f"audit-checkpoint-{created:%Y%m%dT%H%M%S.%fZ}.json"
    partial = directory / f".{path.name}.partial"
    with partial.open("w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, indent=1)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)  # a reader never sees half a checkpoint
    return path


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    created: str
    heads: list[Head]


def checkpoint_read(path: Path) -> Checkpoint:
    """Read a checkpoint and check its signature against the configured key."""
    public = _public_key()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {exc.strerror}") from exc
    except ValueError as exc:
        raise CheckpointError(f"{path}: not an audit checkpoint (not JSON: {exc})") from exc
    if not isinstance(document, dict) or "signature" not in document:
        raise CheckpointError(f"{path}: not an audit checkpoint (no signature)")
    signature = document.pop("signature")
    try:
        public.verify(base64.b64decode(str(signature), validate=True), _canonical(document))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        signer = document.get("public_key")
        detail = (
            f"it names signer {signer}, the configured public key is {_public_text(public)}"
            if signer != _public_text(public)
            else "its content is not what was signed"
        )
        raise CheckpointError(f"{path}: {SIGNATURE_INVALID} ({detail})") from exc
    heads = _heads_of(path, document)
    return Checkpoint(path=path, created=str(document["created"]), heads=heads)


def _heads_of(path: Path, document: dict[str, Any]) -> list[Head]:
    """The signed document's heads, once its format and digest agree (a signed file that does
    not parse is a fault of the writer, named as such)."""
    if document.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {document.get('format')!r} is not {FORMAT!r}")
    raw = document.get("heads")
    heads: list[Head] = []
    for entry in raw if isinstance(raw, list) else [None]:
        if not (
            isinstance(entry, list)
            and len(entry) == 3  # noqa: PLR2004 - subject, seq, hash
            and isinstance(entry[0], str)
            and isinstance(entry[1], int)
            and isinstance(entry[2], str)
        ):
            raise CheckpointError(f"{path}: heads must be a list of [subject, seq, hash]")
        heads.append((entry[0], entry[1], entry[2]))
    if document.get("chains") != len(heads) or document.get("digest") != heads_digest(heads):
        raise CheckpointError(f"{path}: the digest or count does not match the heads")
    return heads


def checkpoint_break(checkpoint: Checkpoint) -> ChainBreak | None:
    """The first chain of the checkpoint whose row at the checkpoint's seq is gone or carries
    another hash (looked up by hash, a unique index, a thousand at a time)."""
    for start in range(0, len(checkpoint.heads), CHUNK):
        chunk = checkpoint.heads[start : start + CHUNK]
        rows = AuditEvent.objects.filter(hash__in=[hash_ for _, _, hash_ in chunk]).values_list(
            "hash", "subject_type_id", "subject_id", "seq"
        )
        found = {
            hash_: (f"{subject_label(type_id)}:{subject_id}", seq)
            for hash_, type_id, subject_id, seq in rows
        }
        for subject, seq, hash_ in chunk:
            if found.get(hash_) != (subject, seq):
                return _checkpoint_break(subject, seq)
    return None


def _checkpoint_break(subject: str, seq: int) -> ChainBreak:
    label, _, subject_id = subject.partition(":")
    app_label, _, model = label.partition(".")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return ChainBreak(None, subject, seq, "the chain's subject type no longer exists")
    chain = AuditEvent.objects.filter(subject_type=content_type, subject_id=subject_id)
    row = chain.filter(seq=seq).values_list("pk", flat=True).first()
    if row is not None:
        reason = "the row differs from the checkpoint's: the chain was rewritten since"
        return ChainBreak(row, subject, seq, reason)
    last = chain.aggregate(last=Max("seq"))["last"]
    if last is None:
        return ChainBreak(None, subject, seq, "the chain was removed since the checkpoint")
    reason = f"the chain ends at seq {last}: rows the checkpoint holds were removed since"
    return ChainBreak(None, subject, seq, reason)
