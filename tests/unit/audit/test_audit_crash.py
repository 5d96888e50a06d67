"""kill -9 while appending: after a restart, every acknowledged event is there and verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from audit import AuditLog, verify_directory

WRITER = """
import sys, threading
from pathlib import Path
from audit import AuditEvent, AuditLog

log = AuditLog.open(Path(sys.argv[1]), origin="test.pds/audit", checkpoint_seconds=0.05)
out = threading.Lock()

def work(t):
    n = 0
    while True:
        index = log.append(AuditEvent(type="crash.test", actor=f"{sys.argv[2]}t{t}", details={"n": n}))
        with out:
            sys.stdout.write(f"{index} {sys.argv[2]}t{t} {n}\\n")
            sys.stdout.flush()
        n += 1

for t in range(8):
    threading.Thread(target=work, args=(t,), daemon=True).start()
threading.Event().wait()
"""


@pytest.mark.parametrize("round", range(3))
def test_no_acknowledged_event_is_lost(log_dir: Path, round: int) -> None:
    acknowledged: dict[int, tuple[str, int]] = {}
    for life in range(2):  # two crashes in a row on the same log
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(log_dir), f"life{life}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        target = 1500 + 700 * round + 400 * life
        for seen, line in enumerate(proc.stdout, start=1):
            index, actor, n = line.split()
            acknowledged[int(index)] = (actor, int(n))
            if seen >= target:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=60)
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL

    log = AuditLog.open(log_dir, origin="test.pds/audit")
    entries = {i: e for i, e in log.entries()}
    for index, (actor, n) in acknowledged.items():
        assert (entries[index].actor, entries[index].details["n"]) == (actor, n)
    crash_events = [e for e in entries.values() if e.type == "crash.test"]
    assert len({(e.actor, e.details["n"]) for e in crash_events}) == len(crash_events)
    log.close()
    report = verify_directory(log_dir)
    assert report.size == len(entries) and report.unsigned == 0
