"""The bwrap command line and the minimal /etc."""

from __future__ import annotations

from pathlib import Path

from sandbox import bwrap


def paths(tmp_path: Path, release: Path | None) -> bwrap.SandboxPaths:
    return bwrap.SandboxPaths(
        home=tmp_path / "home", run_dir=tmp_path / "run", env=Path("/opt/env"), release=release
    )


def pairs(cmd: list[str], flag: str) -> list[tuple[str, str]]:
    return [(cmd[i + 1], cmd[i + 2]) for i, a in enumerate(cmd) if a == flag]


def test_namespaces_and_privileges_are_dropped(tmp_path: Path) -> None:
    cmd = bwrap.command(paths(tmp_path, None), ["server"], seccomp_fd=7)
    for flag in (
        "--unshare-user",
        "--disable-userns",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
    ):
        assert flag in cmd
    assert cmd[cmd.index("--seccomp") + 1] == "7"
    assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
    assert cmd[-2:] == ["--", "server"]


def test_only_usr_env_home_run_and_release_come_from_the_host(tmp_path: Path) -> None:
    release = tmp_path / "release"
    cmd = bwrap.command(paths(tmp_path, release), ["server"], None, hide=("/usr/bin/su",))
    ro = pairs(cmd, "--ro-bind")
    rw = pairs(cmd, "--bind")
    assert ("/usr", "/usr") in ro
    assert (str(release), bwrap.RELEASE) in ro
    assert ("/opt/env", "/opt/env") in ro
    assert (str(tmp_path / "run" / "etc"), "/etc") in ro
    assert ("/dev/null", "/usr/bin/su") in ro
    assert rw == [
        (str(tmp_path / "home"), bwrap.HOME),
        (str(tmp_path / "run" / "server"), f"{bwrap.RUN}/server"),
    ]
    sources = {src for src, _ in ro + rw}
    assert "/" not in sources and "/etc" not in sources and "/home" not in sources
    assert "--seccomp" not in cmd


def test_no_release_no_mount(tmp_path: Path) -> None:
    cmd = bwrap.command(paths(tmp_path, None), ["server"], None)
    assert bwrap.RELEASE not in cmd


def test_minimal_etc(tmp_path: Path) -> None:
    bwrap.write_etc(tmp_path / "etc", 1234, 1235)
    assert sorted(p.name for p in (tmp_path / "etc").iterdir()) == [
        "group", "hostname", "hosts", "nsswitch.conf", "passwd",
    ]  # fmt: skip
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert f"workspace:x:1234:1235:workspace:{bwrap.HOME}:/bin/bash" in passwd
    assert "hosts: files" in (tmp_path / "etc" / "nsswitch.conf").read_text()


def test_privileged_files_finds_setuid_files(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "su").write_text("")
    (tmp_path / "bin" / "su").chmod(0o4755)
    (tmp_path / "bin" / "wall").write_text("")
    (tmp_path / "bin" / "wall").chmod(0o2755)
    (tmp_path / "bin" / "ls").write_text("")
    (tmp_path / "bin" / "ls").chmod(0o755)
    assert bwrap.privileged_files(str(tmp_path)) == (
        str(tmp_path / "bin" / "su"),
        str(tmp_path / "bin" / "wall"),
    )
