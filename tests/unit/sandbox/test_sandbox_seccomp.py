"""The seccomp filter, checked by running real programs under it with bwrap."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from sandbox import seccomp
from sandbox.exceptions import IsolationError

needs_bwrap = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap not installed")


def run_filtered(*argv: str) -> subprocess.CompletedProcess[str]:
    fd = seccomp.program_fd()
    try:
        return subprocess.run(
            ["bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--proc", "/proc", "--dev", "/dev", "--unshare-all", "--seccomp", str(fd),
             "--", *argv],
            pass_fds=(fd,), capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    finally:
        os.close(fd)


def test_program_is_whole_instructions_ending_in_allow() -> None:
    prog = seccomp.program("x86_64")
    assert len(prog) % 8 == 0
    code, _jt, _jf, k = struct.unpack("<HBBI", prog[-8:])
    assert (code, k) == (0x06, seccomp.RET_ALLOW)
    assert len(prog) // 8 < 4096  # BPF_MAXINSNS


def test_every_denied_syscall_has_a_number_on_each_architecture() -> None:
    for _arch, numbers in seccomp.ARCHES.values():
        assert set(seccomp.DENIED) <= set(numbers)


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(IsolationError):
        seccomp.program("sparc")


@needs_bwrap
@pytest.mark.parametrize(
    "argv",
    [
        ("unshare", "--user", "true"),
        ("unshare", "--net", "true"),
        ("unshare", "--mount", "true"),
        ("python3", "-c", "import ctypes; assert ctypes.CDLL(None).unshare(0x10000000) == 0"),
    ],
)
def test_new_namespaces_are_denied(argv: tuple[str, ...]) -> None:
    result = run_filtered(*argv)
    assert result.returncode != 0, result


@needs_bwrap
def test_ordinary_programs_fork_and_thread() -> None:
    code = (
        "import os, threading, subprocess;"
        "t = threading.Thread(target=lambda: None); t.start(); t.join();"
        "print(subprocess.run(['echo', 'ok'], capture_output=True, text=True).stdout.strip())"
    )
    result = run_filtered("python3", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
