"""The seccomp filter: read by a literal BPF interpreter, and run under bwrap with real programs."""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from sandbox import seccomp
from sandbox.exceptions import IsolationError

needs_bwrap = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap not installed")
EPERM = seccomp.RET_ERRNO | errno.EPERM
ENOSYS = seccomp.RET_ERRNO | errno.ENOSYS
HEADERS = {
    "x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    "aarch64": Path("/usr/include/asm-generic/unistd.h"),
}
# ordinary calls (x86_64 numbers) a workspace needs: read, write, openat, mmap, futex, ...
ORDINARY_X86_64 = {"read": 0, "write": 1, "mmap": 9, "futex": 202, "openat": 257, "getpid": 39,
                   "clone": 56, "execve": 59, "socket": 41, "personality": 135}  # fmt: skip


def run_bpf(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = (0,) * 6) -> int:
    """A literal classic-BPF interpreter for the opcodes the filter uses; returns the verdict."""
    data = struct.pack("<iI", nr, arch) + struct.pack("<Q", 0) + struct.pack("<6Q", *args)
    insns = [struct.unpack("<HBBI", prog[i : i + 8]) for i in range(0, len(prog), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:  # ld [k]
            acc = struct.unpack("<I", data[k : k + 4])[0]
            pc += 1
        elif code in (0x15, 0x35, 0x45):  # jeq, jge, jset
            hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += 1 + (jt if hit else jf)
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHES))
def test_every_denied_syscall_answers_eperm(machine: str) -> None:
    prog = seccomp.program(machine)
    arch, numbers = seccomp.ARCHES[machine]
    present = [name for name in seccomp.DENIED if name in numbers]
    assert {"io_uring_setup", "io_uring_enter", "io_uring_register"} <= set(present)
    for name in present:
        assert run_bpf(prog, numbers[name], arch) == EPERM, name


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHES))
def test_clone_personality_ioctl_and_foreign_calls(machine: str) -> None:
    prog = seccomp.program(machine)
    arch, nr = seccomp.ARCHES[machine]
    assert run_bpf(prog, nr["clone"], arch, (0x11,) + (0,) * 5) == seccomp.RET_ALLOW
    for flag in (0x10000000, 0x20000, 0x40000000, 0x8000000, 0x4000000, 0x2000000, 0x20000000):
        assert run_bpf(prog, nr["clone"], arch, (flag | 0x11,) + (0,) * 5) == EPERM
    assert run_bpf(prog, nr["clone3"], arch) == ENOSYS
    for value in seccomp.ALLOWED_PERSONALITIES:
        assert run_bpf(prog, nr["personality"], arch, (value,) + (0,) * 5) == seccomp.RET_ALLOW
    for value in (0x0040000, 0x0400000, 0x4000000, 0x1):  # ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC
        assert run_bpf(prog, nr["personality"], arch, (value,) + (0,) * 5) == EPERM
    for request in seccomp.DENIED_IOCTLS:
        assert run_bpf(prog, nr["ioctl"], arch, (0, request, 0, 0, 0, 0)) == EPERM
    assert run_bpf(prog, nr["ioctl"], arch, (0, 0x5401, 0, 0, 0, 0)) == seccomp.RET_ALLOW
    assert run_bpf(prog, nr["clone"], 0x40000003) == seccomp.RET_KILL_PROCESS  # i386


def test_ordinary_calls_are_allowed_and_x32_is_not() -> None:
    prog = seccomp.program("x86_64")
    arch = seccomp.ARCHES["x86_64"][0]
    denied = {seccomp.ARCHES["x86_64"][1][n] for n in seccomp.DENIED}
    for name, nr in ORDINARY_X86_64.items():
        assert nr not in denied, name
        assert run_bpf(prog, nr, arch) == seccomp.RET_ALLOW, name
    # every number the filter does not name is allowed: it is a denylist
    named = set(seccomp.ARCHES["x86_64"][1].values())
    for nr in range(0, 460):
        if nr not in named:
            assert run_bpf(prog, nr, arch) == seccomp.RET_ALLOW, nr
    assert run_bpf(prog, seccomp.X32_SYSCALL_BIT | 0, arch) == ENOSYS


@pytest.mark.parametrize("machine", sorted(HEADERS))
def test_numbers_match_the_kernel_headers(machine: str) -> None:
    header = HEADERS[machine]
    if not header.exists():
        pytest.skip(f"{header} not installed")
    defined = {
        m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)\b", header.read_text())
    }
    numbers = seccomp.ARCHES[machine][1]
    assert numbers.items() <= defined.items()
    # a denied name missing on an architecture really has no number there
    missing = [n for n in seccomp.DENIED if n not in numbers]
    assert not [n for n in missing if n in defined], missing


def test_x86_64_names_every_denied_call() -> None:
    assert set(seccomp.DENIED) <= set(seccomp.ARCHES["x86_64"][1])


def test_program_is_whole_instructions_ending_in_allow() -> None:
    prog = seccomp.program("x86_64")
    assert len(prog) % 8 == 0
    code, _jt, _jf, k = struct.unpack("<HBBI", prog[-8:])
    assert (code, k) == (0x06, seccomp.RET_ALLOW)
    assert len(prog) // 8 < 4096  # BPF_MAXINSNS


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(IsolationError):
        seccomp.program("sparc")


def run_bwrap(*argv: str, filtered: bool = True) -> subprocess.CompletedProcess[str]:
    fd = seccomp.program_fd()
    try:
        return subprocess.run(
            ["bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all",
             *(["--seccomp", str(fd)] if filtered else []), "--", *argv],
            pass_fds=(fd,), capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    finally:
        os.close(fd)


PROBE = """
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
for name, nr in json.loads(sys.argv[1]).items():
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(0)] * 6)
    out[name] = ctypes.get_errno() if rc == -1 else "RAN"
params = (ctypes.c_uint32 * 30)()
rc = libc.syscall(ctypes.c_long(425), ctypes.c_long(4), params)
out["io_uring_setup(4)"] = ctypes.get_errno() if rc == -1 else "RAN"
print(json.dumps(out))
"""


@needs_bwrap
@pytest.mark.skipif(platform.machine() != "x86_64", reason="probe uses x86_64 numbers")
def test_every_denied_call_fails_with_eperm_under_bwrap() -> None:
    numbers = seccomp.ARCHES["x86_64"][1]
    calls = json.dumps({name: numbers[name] for name in seccomp.DENIED})
    got = json.loads(run_bwrap("python3", "-c", PROBE, calls).stdout)
    assert got.pop("io_uring_setup(4)") == errno.EPERM
    assert got == {name: errno.EPERM for name in seccomp.DENIED}
    # without the filter io_uring works where the kernel allows it: the filter is what stops it
    bare = json.loads(run_bwrap("python3", "-c", PROBE, "{}", filtered=False).stdout)
    switch = Path("/proc/sys/kernel/io_uring_disabled")
    if switch.exists() and switch.read_text().strip() == "0":
        assert bare["io_uring_setup(4)"] == "RAN"


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
    result = run_bwrap(*argv)
    assert result.returncode != 0, result


@needs_bwrap
def test_ordinary_programs_fork_and_thread() -> None:
    code = (
        "import os, threading, subprocess, tempfile;"
        "t = threading.Thread(target=lambda: None); t.start(); t.join();"
        "f = tempfile.NamedTemporaryFile(); f.write(b'x'); f.flush();"
        "print(subprocess.run(['echo', 'ok'], capture_output=True, text=True).stdout.strip())"
    )
    result = run_bwrap("python3", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
