"""Signed checkpoints of the audit chains' heads: written by ``audit_checkpoint`` and beat,
held against the database by ``verify_audit --checkpoint``."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from records.audit import audit_append
from records.audit import verify_chains
from records.checkpoints import generate_key
from records.models import AuditEvent
from records.models import AuditHead
from records.tasks import audit_checkpoint
from tests import factories
from tests.records.tampering import chain_of
from tests.records.tampering import rewrite
from tests.records.tampering import superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(settings, tmp_path):
    private, public = generate_key()
    settings.AUDIT_CHECKPOINT_KEY = private
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = ""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    return private, public


@pytest.fixture
def history():
    a, b = factories.student("甲"), factories.student("乙")
    for action in ("a", "b", "c"):
        audit_append(subject=a, action=action, actor=None, data={"v": action})
    audit_append(subject=b, action="x", actor=None)
    return a, b


def _checkpoint(capsys) -> Path:
    call_command("audit_checkpoint")
    out = capsys.readouterr().out
    return Path(out.strip().rsplit(" ", 1)[-1])


def _verify(path: Path) -> None:
    call_command("verify_audit", "--checkpoint", str(path))


def test_a_clean_history_holds_its_checkpoint(keys, history, tmp_path, capsys):
    path = _checkpoint(capsys)
    assert path.parent == tmp_path
    document = json.loads(path.read_text())
    assert document["chains"] == 2
    assert sorted(document["heads"]) == document["heads"]
    assert [seq for _, seq, _ in document["heads"]] == [3, 1]
    audit_append(subject=history[0], action="later", actor=None)  # history goes on
    _verify(path)
    out = capsys.readouterr().out
    assert "2 chains still hold it" in out
    assert "2 chains, 5 events: all intact" in out


def test_verifying_needs_only_the_public_key(keys, history, settings, capsys):
    path = _checkpoint(capsys)
    settings.AUDIT_CHECKPOINT_KEY = ""
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = keys[1]
    _verify(path)
    assert "still hold it" in capsys.readouterr().out


def test_a_rewritten_chain_with_recomputed_hashes_breaks_the_checkpoint(keys, history, capsys):
    path = _checkpoint(capsys)
    rewrite(history[0], seq=2, data={"v": "forged"})
    assert verify_chains().first_break is None  # the chain itself is consistent again
    changed = AuditEvent.objects.get(**chain_of(history[0]), seq=3)
    with pytest.raises(CommandError, match="rewritten") as caught:
        _verify(path)
    assert f"id={changed.pk}" in str(caught.value)
    assert f"records.student:{history[0].pk} seq 3" in str(caught.value)


def test_a_history_rewritten_since_the_last_checkpoint_is_never_signed(
    keys, history, tmp_path, capsys
):
    first = _checkpoint(capsys)
    second = _checkpoint(capsys)  # the first still holds
    assert sorted(tmp_path.iterdir()) == [first, second]
    rewrite(history[0], seq=1, data={"v": "forged"})
    with pytest.raises(CommandError, match=r"no longer holds, so no new checkpoint was written"):
        call_command("audit_checkpoint")
    assert sorted(tmp_path.iterdir()) == [first, second]


def test_a_removed_chain_breaks_the_checkpoint(keys, history, capsys):
    path = _checkpoint(capsys)
    with superuser():
        AuditEvent.objects.filter(**chain_of(history[1])).delete()
        AuditHead.objects.filter(**chain_of(history[1])).delete()
    assert verify_chains().first_break is None  # nothing left to contradict
    with pytest.raises(
        CommandError, match=f"records.student:{history[1].pk} at seq 1: the chain was removed"
    ):
        _verify(path)


def test_rows_removed_before_the_checkpoint_break_it(keys, history, capsys):
    path = _checkpoint(capsys)
    with superuser():
        AuditEvent.objects.filter(**chain_of(history[0]), seq=3).delete()
        AuditHead.objects.filter(**chain_of(history[0])).update(
            seq=2, hash=AuditEvent.objects.get(**chain_of(history[0]), seq=2).hash
        )
    assert verify_chains().first_break is None
    with pytest.raises(CommandError, match="ends at seq 2: rows the checkpoint holds were removed"):
        _verify(path)


def test_an_edited_checkpoint_is_refused(keys, history, capsys):
    path = _checkpoint(capsys)
    rewrite(history[0], seq=2, data={"v": "forged"})
    document = json.loads(path.read_text())
    new_head = AuditHead.objects.get(**chain_of(history[0]))
    document["heads"][0][2] = new_head.hash  # the forger makes the checkpoint agree
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="checkpoint signature invalid"):
        _verify(path)


def test_a_checkpoint_signed_with_another_key_is_refused(keys, history, settings, capsys):
    settings.AUDIT_CHECKPOINT_KEY = generate_key()[0]  # the forger's own key
    path = _checkpoint(capsys)
    settings.AUDIT_CHECKPOINT_KEY = ""
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = keys[1]
    with pytest.raises(CommandError, match=f"checkpoint signature invalid .*{re.escape(keys[1])}"):
        _verify(path)


def test_a_file_that_is_no_checkpoint_is_named(keys, tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("not json")
    with pytest.raises(CommandError, match=r"notes\.json: not an audit checkpoint"):
        _verify(path)
    with pytest.raises(CommandError, match=r"missing\.json: cannot read the checkpoint"):
        _verify(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "AUDIT_CHECKPOINT_KEY is not set"),
        ("not a key!", "AUDIT_CHECKPOINT_KEY is not an Ed25519 private key"),
        ("c2hvcnQ=", "AUDIT_CHECKPOINT_KEY is not an Ed25519 private key"),
    ],
)
def test_a_missing_or_invalid_key_names_the_setting(keys, settings, key, message):
    settings.AUDIT_CHECKPOINT_KEY = key
    with pytest.raises(CommandError, match=message):
        call_command("audit_checkpoint")


def test_a_pem_key_signs_too(keys, history, settings, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    settings.AUDIT_CHECKPOINT_KEY = pem.decode()
    _verify(_checkpoint(capsys))


def test_verifying_without_any_key_names_both_settings(keys, history, settings, capsys):
    path = _checkpoint(capsys)
    settings.AUDIT_CHECKPOINT_KEY = ""
    with pytest.raises(CommandError, match="needs AUDIT_CHECKPOINT_PUBLIC_KEY"):
        _verify(path)
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = "AAAA"
    with pytest.raises(CommandError, match="AUDIT_CHECKPOINT_PUBLIC_KEY is not an Ed25519"):
        _verify(path)


def test_a_missing_directory_is_named(keys, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "absent")
    with pytest.raises(CommandError, match=r"AUDIT_CHECKPOINT_DIR .*absent.* is not an existing"):
        call_command("audit_checkpoint")
    settings.AUDIT_CHECKPOINT_DIR = ""
    with pytest.raises(CommandError, match="AUDIT_CHECKPOINT_DIR is not set"):
        call_command("audit_checkpoint")


def test_generate_key_prints_a_pair_that_works(history, settings, tmp_path, capsys):
    call_command("audit_checkpoint", "--generate-key")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert set(lines) == {"AUDIT_CHECKPOINT_KEY", "AUDIT_CHECKPOINT_PUBLIC_KEY"}
    settings.AUDIT_CHECKPOINT_KEY = lines["AUDIT_CHECKPOINT_KEY"]
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path)
    path = _checkpoint(capsys)
    settings.AUDIT_CHECKPOINT_KEY = ""
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = lines["AUDIT_CHECKPOINT_PUBLIC_KEY"]
    _verify(path)


def test_beat_writes_a_checkpoint(keys, history, tmp_path, capsys):
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == audit_checkpoint.name
    written = audit_checkpoint.delay().get()
    assert written is not None
    assert [str(p) for p in tmp_path.iterdir()] == [written]
    _verify(Path(written))


def test_beat_skips_without_a_key(keys, settings, tmp_path, caplog):
    settings.AUDIT_CHECKPOINT_KEY = ""
    with caplog.at_level(logging.INFO, logger="records.tasks"):
        assert audit_checkpoint.delay().get() is None
    assert [r.getMessage() for r in caplog.records if r.name == "records.tasks"] == [
        "audit checkpoint skipped: AUDIT_CHECKPOINT_KEY is not set"
    ]
    assert list(tmp_path.iterdir()) == []
