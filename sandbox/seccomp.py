"""A seccomp filter (classic BPF, as ``bwrap --seccomp`` takes it) denying escape syscalls.

The denied set is Docker's default profile read as a denylist (everything that profile refuses to
a container without added capabilities) plus ``io_uring`` and the new mount API. Denied with EPERM:
new namespaces (``unshare``, ``setns``, ``clone`` with namespace flags), mounting, ``ptrace`` and
the other calls reaching into another process, kernel modules and kexec, BPF and perf, keyrings,
``userfaultfd``, ``io_uring``, handle-based opens, clock and host changes, NUMA policy, legacy
and I/O-port calls, ``personality`` other than the values Docker allows, and the
``TIOCSTI``/``TIOCLINUX`` ioctls. ``clone3`` answers ENOSYS so that C libraries fall back to
``clone``, whose flags can be checked; x32 calls answer ENOSYS; a foreign architecture is killed.
A name with no number on an architecture (legacy x86 calls on aarch64) has nothing to deny there.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

from sandbox.exceptions import IsolationError

# BPF opcodes
_LD_ABS_W = 0x20
_JEQ = 0x15
_JGE = 0x35
_JSET = 0x45
_RET = 0x06
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
# offsets in struct seccomp_data
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0 = 16
_OFF_ARG1 = 24

CLONE_NAMESPACE_FLAGS = 0x7E020000  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
DENIED_IOCTLS = (0x5412, 0x541C)  # TIOCSTI, TIOCLINUX
# personality() values Docker's profile allows: PER_LINUX, UNAME26, PER_LINUX32, both, query
ALLOWED_PERSONALITIES = (0x0, 0x0008, 0x20000, 0x20008, 0xFFFFFFFF)
X32_SYSCALL_BIT = 0x40000000

DENIED = (
    # namespaces and mounts
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    # other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    # kernel attack surface
    "bpf",
    "perf_event_open",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "fanotify_init",
    "lookup_dcookie",
    "open_by_handle_at",
    "name_to_handle_at",
    # the kernel and the host
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "vhangup",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    # NUMA policy (Docker: CAP_SYS_NICE)
    "mbind",
    "get_mempolicy",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "migrate_pages",
    "move_pages",
    # legacy and I/O ports
    "nfsservctl",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
    "ioperm",
    "iopl",
)

# fmt: off
ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        dict(
            unshare=272,
            setns=308,
            mount=165,
            umount2=166,
            pivot_root=155,
            move_mount=429,
            open_tree=428,
            fsopen=430,
            fsconfig=431,
            fsmount=432,
            fspick=433,
            mount_setattr=442,
            ptrace=101,
            process_vm_readv=310,
            process_vm_writev=311,
            bpf=321,
            perf_event_open=298,
            keyctl=250,
            add_key=248,
            request_key=249,
            userfaultfd=323,
            acct=163,
            open_by_handle_at=304,
            name_to_handle_at=303,
            kexec_load=246,
            kexec_file_load=320,
            init_module=175,
            finit_module=313,
            delete_module=176,
            swapon=167,
            swapoff=168,
            reboot=169,
            quotactl=179,
            syslog=103,
            settimeofday=164,
            clock_settime=227,
            clock_adjtime=305,
            adjtimex=159,
            sethostname=170,
            setdomainname=171,
            process_madvise=440,
            pidfd_getfd=438,
            kcmp=312,
            io_uring_setup=425,
            io_uring_enter=426,
            io_uring_register=427,
            fanotify_init=300,
            lookup_dcookie=212,
            create_module=174,
            get_kernel_syms=177,
            query_module=178,
            quotactl_fd=443,
            vhangup=153,
            mbind=237,
            get_mempolicy=239,
            set_mempolicy=238,
            set_mempolicy_home_node=450,
            migrate_pages=256,
            move_pages=279,
            nfsservctl=180,
            uselib=134,
            ustat=136,
            sysfs=139,
            _sysctl=156,
            ioperm=173,
            iopl=172,
            personality=135,
            clone=56,
            clone3=435,
            ioctl=16,
        ),
    ),
    "aarch64": (
        0xC00000B7,
        dict(
            unshare=97,
            setns=268,
            mount=40,
            umount2=39,
            pivot_root=41,
            move_mount=429,
            open_tree=428,
            fsopen=430,
            fsconfig=431,
            fsmount=432,
            fspick=433,
            mount_setattr=442,
            ptrace=117,
            process_vm_readv=270,
            process_vm_writev=271,
            bpf=280,
            perf_event_open=241,
            keyctl=219,
            add_key=217,
            request_key=218,
            userfaultfd=282,
            acct=89,
            open_by_handle_at=265,
            name_to_handle_at=264,
            kexec_load=104,
            kexec_file_load=294,
            init_module=105,
            finit_module=273,
            delete_module=106,
            swapon=224,
            swapoff=225,
            reboot=142,
            quotactl=60,
            syslog=116,
            settimeofday=170,
            clock_settime=112,
            clock_adjtime=266,
            adjtimex=171,
            sethostname=161,
            setdomainname=162,
            process_madvise=440,
            pidfd_getfd=438,
            kcmp=272,
            io_uring_setup=425,
            io_uring_enter=426,
            io_uring_register=427,
            fanotify_init=262,
            lookup_dcookie=18,
            quotactl_fd=443,
            vhangup=58,
            mbind=235,
            get_mempolicy=236,
            set_mempolicy=237,
            set_mempolicy_home_node=450,
            migrate_pages=238,
            move_pages=239,
            nfsservctl=42,
            personality=92,
            clone=220,
            clone3=435,
            ioctl=29,
        ),
    ),
}
# fmt: on


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes:
    """The filter for ``machine`` (default: this one) as packed ``struct sock_filter``s."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise IsolationError(f"no seccomp filter for architecture {machine}")
    audit_arch, nr = ARCHES[machine]
    eperm = RET_ERRNO | errno.EPERM
    out = [
        _ins(_LD_ABS_W, _OFF_ARCH),
        _ins(_JEQ, audit_arch, 1, 0),
        _ins(_RET, RET_KILL_PROCESS),
        _ins(_LD_ABS_W, _OFF_NR),
    ]
    if machine == "x86_64":
        out += [_ins(_JGE, X32_SYSCALL_BIT, 0, 1), _ins(_RET, RET_ERRNO | errno.ENOSYS)]
    for name in DENIED:
        if name in nr:
            out += [_ins(_JEQ, nr[name], 0, 1), _ins(_RET, eperm)]
    allowed = ALLOWED_PERSONALITIES
    out += [_ins(_JEQ, nr["personality"], 0, len(allowed) + 3), _ins(_LD_ABS_W, _OFF_ARG0)]
    out += [_ins(_JEQ, value, len(allowed) - i, 0) for i, value in enumerate(allowed)]
    out += [_ins(_RET, eperm), _ins(_RET, RET_ALLOW)]
    out += [_ins(_JEQ, nr["clone3"], 0, 1), _ins(_RET, RET_ERRNO | errno.ENOSYS)]
    out += [
        _ins(_JEQ, nr["clone"], 0, 4),
        _ins(_LD_ABS_W, _OFF_ARG0),
        _ins(_JSET, CLONE_NAMESPACE_FLAGS, 0, 1),
        _ins(_RET, eperm),
        _ins(_RET, RET_ALLOW),
    ]
    out += [
        _ins(_JEQ, nr["ioctl"], 0, 5),
        _ins(_LD_ABS_W, _OFF_ARG1),
        _ins(_JEQ, DENIED_IOCTLS[0], 2, 0),
        _ins(_JEQ, DENIED_IOCTLS[1], 1, 0),
        _ins(_RET, RET_ALLOW),
        _ins(_RET, eperm),
    ]
    out.append(_ins(_RET, RET_ALLOW))
    return b"".join(out)


def program_fd(machine: str | None = None) -> int:
    """A file descriptor (inheritable, at offset 0) holding the filter, for ``bwrap --seccomp``."""
    fd = os.memfd_create("pds-seccomp", 0)
    os.write(fd, program(machine))
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd
