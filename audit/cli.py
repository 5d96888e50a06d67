"""``pds audit ...``: record, sign, prove and verify from the command line."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from audit.checkpoint import Verifier
from audit.config import AuditSettings
from audit.events import GRANT_DESTROYED, AuditEvent
from audit.exceptions import EventError, NotFound, VerificationError
from audit.log import AuditLog
from audit.logcheck import verify_directory
from audit.store import LogFiles, replace_file
from audit.verify import verify_evidence


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this package's commands to the ``pds`` parser."""
    audit = sub.add_parser("audit", help="the signed audit log: append, prove, verify")
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, help="log directory (default $PDS_DATA_DIR/audit)")

    p = commands.add_parser("append", parents=[common], help="record an event by hand")
    p.add_argument("--type", required=True, help="event type, e.g. grant.destroyed")
    p.add_argument("--actor", required=True, help="who did it")
    p.add_argument("--subject", help="e.g. grant:12")
    p.add_argument("--object", help="e.g. dataset:hotline-tickets")
    p.add_argument("--details", default="{}", help="a JSON object")
    p.set_defaults(handler=_append)

    p = commands.add_parser("checkpoint", parents=[common], help="print the signed checkpoint")
    p.set_defaults(handler=_checkpoint)

    p = commands.add_parser("vkey", parents=[common], help="print the verifier key string")
    p.add_argument("--pem", action="store_true", help="print the public key as PEM instead")
    p.set_defaults(handler=_vkey)

    p = commands.add_parser("proof", parents=[common], help="inclusion and consistency proofs")
    p.add_argument("--index", type=int, required=True, help="leaf index")
    p.add_argument("--old-size", type=int, help="also prove consistency from this signed size")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_proof)

    p = commands.add_parser("verify", parents=[common], help="verify the whole log")
    pin = p.add_mutually_exclusive_group()
    pin.add_argument("--vkey", help="trusted verifier key string (default: the log's own)")
    pin.add_argument("--key", type=Path, help="file holding the trusted verifier key string")
    p.add_argument(
        "--since",
        type=Path,
        action="append",
        default=[],
        metavar="CHECKPOINT_FILE",
        help="a signed checkpoint kept outside the platform: the log must extend it (repeatable)",
    )
    p.add_argument(
        "--state",
        type=Path,
        help="file keeping the last checkpoint accepted (default $PDS_AUDIT_STATE_FILE, "
        "else $XDG_STATE_HOME/pds/audit/<origin>.checkpoint)",
    )
    p.add_argument("--no-state", action="store_true", help="neither check nor update the state")
    p.set_defaults(handler=_verify)

    p = commands.add_parser(
        "certificate", parents=[common], help="evidence of a grant's destruction"
    )
    p.add_argument("subject", help="e.g. grant:12")
    p.add_argument("--type", default=GRANT_DESTROYED, help="entry type (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON (the default)")
    p.set_defaults(handler=_certificate)

    p = commands.add_parser(
        "verify-certificate", parents=[common], help="verify an evidence bundle offline"
    )
    p.add_argument("file", type=Path, help="evidence bundle (JSON), or - for stdin")
    p.add_argument("--vkey", help="trusted verifier key (default: the log's published one)")
    p.set_defaults(handler=_verify_certificate)

    p = commands.add_parser("rotate-key", parents=[common], help="replace the signing key")
    p.add_argument("--actor", required=True, help="who rotates it")
    p.set_defaults(handler=_rotate_key)


def _directory(args: argparse.Namespace) -> Path:
    return Path(args.dir) if args.dir else AuditSettings().audit_dir


def _open(args: argparse.Namespace) -> AuditLog:
    settings = AuditSettings()
    return AuditLog.open(
        _directory(args),
        origin=settings.audit_origin,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _append(args: argparse.Namespace) -> int:
    try:
        details = json.loads(args.details)
    except ValueError:
        raise EventError("--details is not valid JSON") from None
    if not isinstance(details, dict):
        raise EventError("--details must be a JSON object")
    event = AuditEvent(
        type=args.type, actor=args.actor, subject=args.subject, object=args.object, details=details
    )
    with _open(args) as log:
        print(log.append(event))
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    with _open(args) as log:
        sys.stdout.write(log.checkpoint())
    return 0


def _vkey(args: argparse.Namespace) -> int:
    with _open(args) as log:
        if args.pem:
            sys.stdout.write(log.public_key_pem().decode())
        else:
            print(log.vkey())
    return 0


def _proof(args: argparse.Namespace) -> int:
    with _open(args) as log:
        bundle = log.evidence(args.index)
        out: dict[str, Any] = {
            "vkey": bundle["vkey"],
            "checkpoint": bundle["checkpoint"],
            "leaf_index": bundle["leaf_index"],
            "leaf_b64": bundle["leaf_b64"],
            "inclusion_proof": bundle["inclusion_proof"],
        }
        if args.old_size is not None:
            new_size = int(bundle["checkpoint"].split("\n")[1])
            out["checkpoint_old"] = log.checkpoint_at(args.old_size).note
            out["consistency_proof"] = [
                base64.b64encode(h).decode() for h in log.consistency_proof(args.old_size, new_size)
            ]
    if args.json:
        _print_json(out)
    else:
        print(f"leaf {out['leaf_index']}: {base64.b64decode(out['leaf_b64']).decode()}")
        print(f"inclusion proof: {len(out['inclusion_proof'])} hashes")
        if "consistency_proof" in out:
            print(f"consistency proof: {len(out['consistency_proof'])} hashes")
        sys.stdout.write(out["checkpoint"])
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Verify the log, pinned to a key if given, against checkpoints held outside it.

    The state file keeps the latest checkpoint accepted: a later log must extend it, so a
    rollback or a fork is refused even when nobody kept a checkpoint by hand.
    """
    directory = _directory(args)
    files = LogFiles(directory)
    if not files.exists():
        raise NotFound(f"no audit log in {directory}")
    pinned = args.key.read_text().strip() if args.key is not None else args.vkey
    vkey = pinned or files.read_vkey()
    origin = Verifier.from_vkey(vkey).name
    held = [path.read_text() for path in args.since]
    state: Path | None = None
    if not args.no_state:
        settings = AuditSettings()
        state = args.state.expanduser().resolve() if args.state else settings.state_file(origin)
        for inside in (directory.resolve(), settings.data_dir):
            if state.is_relative_to(inside):
                raise EventError(f"the state file {state} must be outside {inside}: give --state")
        if state.exists():
            held.append(state.read_text())
    try:
        report = verify_directory(directory, vkey, since=held)
    except VerificationError as exc:
        print(f"pds audit verify: NOT INTACT: {exc}", file=sys.stderr)
        return 1
    if state is not None:
        replace_file(state, report.checkpoint.encode())
    unsigned = f", {report.unsigned} after it not yet signed" if report.unsigned else ""
    extends = f"; extends {len(held)} checkpoints held outside it" if held else ""
    print(
        f"intact: {report.size} entries, signed up to {report.signed_size}{unsigned}; "
        f"{report.checkpoints} checkpoints consistent, {report.key_rotations} key rotations"
        f"{extends}"
    )
    return 0


def _certificate(args: argparse.Namespace) -> int:
    with _open(args) as log:
        subject = args.subject if ":" in args.subject else f"grant:{args.subject}"
        bundle = log.evidence(log.find_latest(args.type, subject))
    _print_json(bundle)
    return 0


def _verify_certificate(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text()
    vkey = args.vkey
    if vkey is None:
        vkey_file = _directory(args) / "keys" / "vkey"
        if not vkey_file.exists():
            raise VerificationError("no trusted verifier key: give --vkey")
        vkey = vkey_file.read_text().strip()
    try:
        bundle = json.loads(text)
        event = verify_evidence(bundle, vkey)
    except ValueError:
        print("pds audit verify-certificate: the file is not JSON", file=sys.stderr)
        return 1
    except VerificationError as exc:
        print(f"pds audit verify-certificate: INVALID: {exc}", file=sys.stderr)
        return 1
    size = bundle["checkpoint"].split("\n")[1]
    print(
        f"valid: entry {bundle['leaf_index']} ({event.type}, {event.subject or '-'}, "
        f"{event.actor}, {event.to_dict()['time']}) is in the signed log of size {size}"
    )
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    with _open(args) as log:
        print(log.rotate_key(args.actor))
    return 0
