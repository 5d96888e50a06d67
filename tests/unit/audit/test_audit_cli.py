"""``pds audit ...`` end to end, as a user runs it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit.checkpoint import verify_checkpoint
from audit.hasher import hash_leaf
from audit.verify import verify_consistency, verify_inclusion

PDS = str(Path(sys.executable).parent / "pds")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def pds(data_dir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PDS_DATA_DIR": str(data_dir)}
    env["XDG_STATE_HOME"] = str(data_dir.parent / "verifier-state")
    env.pop("PDS_AUDIT_STATE_FILE", None)
    done = subprocess.run(
        [PDS, "audit", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_append_checkpoint_vkey_proof(data_dir: Path) -> None:
    assert (
        pds(data_dir, "append", "--type", "dataset.downloaded", "--actor", "alice").stdout == "0\n"
    )
    out = pds(
        data_dir,
        "append",
        "--type",
        "export.approved",
        "--actor",
        "officer-li",
        "--subject",
        "export:3",
        "--details",
        '{"files": ["table.csv"], "reviewers": 2}',
    )
    assert out.stdout == "1\n"
    assert (data_dir / "audit" / "entries.log").exists()
    vkey = pds(data_dir, "vkey").stdout.strip()
    assert vkey == (data_dir / "audit" / "keys" / "vkey").read_text().strip()
    assert pds(data_dir, "vkey", "--pem").stdout.startswith("-----BEGIN PUBLIC KEY-----")
    note = pds(data_dir, "checkpoint").stdout
    assert verify_checkpoint(note, vkey).size == 2

    pds(data_dir, "append", "--type", "grant.destroyed", "--actor", "bob", "--subject", "grant:9")
    proof = json.loads(pds(data_dir, "proof", "--index", "1", "--old-size", "2", "--json").stdout)
    assert proof["vkey"] == vkey and proof["leaf_index"] == 1
    new = verify_checkpoint(proof["checkpoint"], vkey)
    old = verify_checkpoint(proof["checkpoint_old"], vkey)
    assert (old.size, new.size) == (2, 3)
    leaf = base64.b64decode(proof["leaf_b64"])
    assert json.loads(leaf)["details"] == {"files": ["table.csv"], "reviewers": 2}
    path = [base64.b64decode(p) for p in proof["inclusion_proof"]]
    verify_inclusion(1, new.size, hash_leaf(leaf), path, new.root)
    consistency = [base64.b64decode(p) for p in proof["consistency_proof"]]
    verify_consistency(old.size, new.size, old.root, new.root, consistency)


def test_verify_reports_intact_and_tampered_logs(data_dir: Path) -> None:
    for i in range(5):
        pds(data_dir, "append", "--type", "workspace.started", "--actor", f"u{i}")
    out = pds(data_dir, "verify")
    assert out.stdout.startswith("intact: 5 entries, signed up to 5")
    vkey = pds(data_dir, "vkey").stdout.strip()
    assert pds(data_dir, "verify", "--vkey", vkey).returncode == 0

    entries = data_dir / "audit" / "entries.log"
    entries.write_bytes(entries.read_bytes().replace(b'"actor":"u3"', b'"actor":"u4"'))
    bad = pds(data_dir, "verify", ok=False)
    assert bad.returncode == 1
    assert "NOT INTACT" in bad.stderr and "damaged" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_certificate_bundle_verifies_offline(data_dir: Path, tmp_path: Path) -> None:
    pds(data_dir, "append", "--type", "grant.destroyed", "--actor", "x", "--subject", "grant:12")
    pds(
        data_dir,
        "append",
        "--type",
        "grant.destroyed",
        "--actor",
        "officer-wang",
        "--subject",
        "grant:12",
        "--details",
        '{"method": "cryptographic erase"}',
    )
    pds(data_dir, "append", "--type", "workspace.stopped", "--actor", "system")
    bundle_text = pds(data_dir, "certificate", "grant:12", "--json").stdout
    bundle = json.loads(bundle_text)
    assert bundle["leaf_index"] == 1 and bundle["entry"]["actor"] == "officer-wang"
    cert = tmp_path / "certificate.json"
    cert.write_text(bundle_text)
    vkey = pds(data_dir, "vkey").stdout.strip()

    elsewhere = tmp_path / "auditor"  # no log there: only the bundle and the key
    out = pds(elsewhere, "verify-certificate", str(cert), "--vkey", vkey)
    assert out.stdout.startswith("valid: entry 1 (grant.destroyed, grant:12, officer-wang")
    assert not elsewhere.exists()

    bundle["entry"]["details"]["method"] = "rm -rf"
    cert.write_text(json.dumps(bundle))
    bad = pds(elsewhere, "verify-certificate", str(cert), "--vkey", vkey, ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith("the entry of the evidence bundle is not its signed leaf")

    missing = pds(data_dir, "certificate", "grant:99", "--json", ok=False)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "pds: error: no grant.destroyed entry for grant:99 in the log"


def test_rotate_key_keeps_the_log_verifiable(data_dir: Path) -> None:
    pds(data_dir, "append", "--type", "a.b", "--actor", "u")
    old = pds(data_dir, "vkey").stdout.strip()
    new = pds(data_dir, "rotate-key", "--actor", "admin").stdout.strip()
    assert new != old and pds(data_dir, "vkey").stdout.strip() == new
    pds(data_dir, "append", "--type", "a.b", "--actor", "u")
    for key in (old, new):
        assert "1 key rotations" in pds(data_dir, "verify", "--vkey", key).stdout


def test_user_errors_are_one_line(data_dir: Path) -> None:
    bad = pds(data_dir, "append", "--type", "t", "--actor", "a", "--details", "[1]", ok=False)
    assert (bad.returncode, bad.stderr) == (2, "pds: error: --details must be a JSON object\n")
    bad = pds(data_dir, "proof", "--index", "0", "--old-size", "7", "--json", ok=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_checkpoint_verifies_with_openssl_and_the_published_pem(
    data_dir: Path, tmp_path: Path
) -> None:
    pds(data_dir, "append", "--type", "a.b", "--actor", "u")
    note = pds(data_dir, "checkpoint").stdout
    (tmp_path / "public.pem").write_text(pds(data_dir, "vkey", "--pem").stdout)
    body, _, signatures = note.rpartition("\n\n")
    (tmp_path / "body").write_text(body + "\n")
    (tmp_path / "sig").write_bytes(base64.b64decode(signatures.split()[-1])[4:])
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin"]
    command += ["-in", "body", "-sigfile", "sig"]
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verified Successfully" in ok.stdout
    (tmp_path / "body").write_text(body.replace("\n1\n", "\n2\n") + "\n")
    assert subprocess.run(command, cwd=tmp_path, capture_output=True).returncode != 0
