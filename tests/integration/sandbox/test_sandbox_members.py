"""Members of one grant cannot run code as each other, from inside real workspaces.

Alice plants configuration, startup files, shadow modules and kernel specs in every directory
she can write in her sandbox (found by walking it, not listed); then Bob starts the same grant's
workspace, starts kernels (in his home and in the shared folder), imports, runs shells. Every
plant writes a marker naming the user it ran as into the shared folder; none may name Bob.
Then Alice looks for Bob's server token in every file she can read.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator

import pytest
from integration.sandbox.sandbox_itest_support import SandboxEnv, gid

from sandbox import members
from sandbox.config import get_settings
from sandbox.workspace import WorkspaceLayout

pytestmark = pytest.mark.integration
GRANT = gid("team2")
ALICE, BOB = "alice", "bob"

PLANT = r"""
import json, os, sys

SKIP = ("/proc", "/sys", "/dev")


def py(tag):
    return ("import os\n"
            "open('/home/workspace/project/PLANT-RAN-' + os.environ.get('JUPYTERHUB_USER', 'x')"
            " + '-" + tag + "', 'w').close()\n")


def sh(tag):
    return "touch /home/workspace/project/PLANT-RAN-${JUPYTERHUB_USER:-x}-" + tag + "\n"


def kernel(tag):
    launch = ("\nimport runpy, sys\nsys.argv = ['ipykernel_launcher', '-f', sys.argv[1]]\n"
              "runpy.run_module('ipykernel_launcher', run_name='__main__')\n")
    return json.dumps({"argv": [sys.executable, "-c", py(tag) + launch, "{connection_file}"],
                       "display_name": "Python 3", "language": "python"})


def plant_files():
    # every file name a Python, IPython, Jupyter or shell start reads from a directory it is
    # pointed at or runs in
    site = ".local/lib/python%d.%d/site-packages" % sys.version_info[:2]
    extension = json.dumps({"ServerApp": {"jpserver_extensions": {"plantext": True}}})
    return {
        "polars.py": py("shadow-polars"),
        "numpy.py": py("shadow-numpy"),
        "json.py": py("shadow-json"),
        "sandbox.py": py("shadow-sandbox"),
        "sitecustomize.py": py("sitecustomize"),
        "usercustomize.py": py("usercustomize"),
        "zz-plant.pth": "import os; exec(" + repr(py("pth")) + ")\n",
        "ipython_config.py": py("ipython-config"),
        "ipython_kernel_config.py": py("ipython-kernel-config"),
        "jupyter_config.py": py("jupyter-config"),
        "jupyter_server_config.py": py("jupyter-server-config"),
        "jupyter_notebook_config.py": py("jupyter-notebook-config"),
        "jupyter_server_config.json": extension,
        "plantext.py": py("server-extension") + "def _load_jupyter_server_extension(app): pass\n",
        "matplotlibrc": "backend: module://plantbackend\n",
        "plantbackend.py": py("matplotlib-backend"),
        ".bashrc": sh("bashrc"),
        ".profile": sh("profile"),
        ".bash_profile": sh("bash-profile"),
        ".bash_login": sh("bash-login"),
        ".ipython/profile_default/startup/00-plant.py": py("ipython-startup"),
        ".ipython/profile_default/ipython_kernel_config.py": py("ipython-profile-kernel"),
        ".ipython/profile_default/ipython_config.py": py("ipython-profile"),
        "profile_default/startup/00-plant.py": py("ipythondir-startup"),
        ".jupyter/jupyter_server_config.py": py("jupyter-dir-config"),
        ".jupyter/jupyter_server_config.json": extension,
        ".local/etc/jupyter/jupyter_server_config.py": py("local-etc-config"),
        ".local/share/jupyter/kernels/python3/kernel.json": kernel("kernelspec"),
        "share/jupyter/kernels/python3/kernel.json": kernel("kernelspec-path"),
        "kernels/python3/kernel.json": kernel("kernelspec-data"),
        site + "/sitecustomize.py": py("user-sitecustomize"),
        site + "/usercustomize.py": py("user-usercustomize"),
        site + "/zz-plant.pth": "import os; exec(" + repr(py("user-pth")) + ")\n",
        ".config/matplotlib/matplotlibrc": "backend: module://plantbackend\n",
    }


for shared in ("project", "outbox"):  # there already; made in a home of the old layout
    os.makedirs("/home/workspace/" + shared, exist_ok=True)
planted, writable = [], []
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(SKIP):
        dirnames[:] = []
        continue
    if not os.access(dirpath, os.W_OK):
        continue
    writable.append(dirpath)
    for name, text in plant_files().items():
        path = os.path.join(dirpath, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            planted.append(path)
        except OSError:
            pass
print(json.dumps({"writable": writable, "planted": len(planted)}))
"""

VICTIM = r"""
import json, os, subprocess, sys
import numpy, polars  # the real ones, or a plant in the working directory ran
env = os.environ
shells = {}
for flags in (["-i", "-c", "true"], ["-l", "-c", "true"], ["-c", "true"]):
    p = subprocess.run(["bash", *flags], cwd="/home/workspace/project",
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    shells[" ".join(flags)] = p.returncode
child = subprocess.run([sys.executable, "-c", "import polars, numpy, json, sandbox; print('ok')"],
                       cwd="/home/workspace/project", capture_output=True, text=True, timeout=60)
try:
    import matplotlib.pyplot as plt
    plt.figure()
    backend = "ok"
except Exception as e:  # a planted matplotlibrc names a backend no one can import
    backend = type(e).__name__
print(json.dumps({
    "backend": backend,
    "cwd": os.getcwd(),
    "polars": polars.__file__, "numpy": numpy.__file__,
    "path_has_cwd": "" in sys.path or os.getcwd() in sys.path,
    "child": child.stdout.strip(), "shells": shells,
    "home": sorted(os.listdir(env["HOME"])),
    "dirs": {k: env.get(k) for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR",
                                      "PYTHONUSERBASE", "PYTHONSAFEPATH", "JUPYTER_PATH")},
    "token": env["JUPYTERHUB_API_TOKEN"],
}))
"""

HUNT = r"""
import json, os
needle = NEEDLE.encode()
found, read = [], 0
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(("/proc", "/sys", "/dev", "/usr", ENV_DIR)):
        dirnames[:] = []
        continue
    for name in filenames:
        path = os.path.join(dirpath, name)
        try:
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read(64 << 20)
            read += 1
            if needle in data:
                found.append(path)
        except OSError:
            pass
mine = os.environ["JUPYTERHUB_API_TOKEN"]
print(json.dumps({"found": found, "read": read, "own_differs": mine != NEEDLE}))
"""


@pytest.fixture(scope="module")
def team(sandbox_env: SandboxEnv) -> Iterator[SandboxEnv]:
    env = sandbox_env
    env.add_grant(grant_id=GRANT, user=ALICE, release_dir=env.release_dir)
    env.add_grant(grant_id=GRANT, user=BOB, release_dir=env.release_dir)
    yield env


def run(env: SandboxEnv, user: str, code: str, path: str | None = None) -> dict:
    out = env.hub.run_code(user, GRANT, textwrap.dedent(code), timeout=300, path=path)
    return json.loads(out.strip().splitlines()[-1])


def markers(env: SandboxEnv) -> list[str]:
    project = WorkspaceLayout.of(GRANT, env.workspace_root, env.run_root).home / members.PROJECT
    return sorted(p.name for p in project.iterdir() if p.name.startswith("PLANT-RAN-"))


def test_a_member_cannot_plant_code_that_runs_as_another(team: SandboxEnv) -> None:
    env = team
    r = env.hub.start_server(ALICE, GRANT)
    assert r.status_code in (201, 202), r.text
    planted = run(env, ALICE, PLANT)
    writable = planted["writable"]
    assert "/home/workspace" in writable and "/home/workspace/project" in writable
    assert "/home/workspace/outbox" in writable and planted["planted"] > 100
    # the plants work: alice's own next kernel runs her own start-up files
    run(env, ALICE, "import json; print(json.dumps({}))")
    own = markers(env)
    assert "PLANT-RAN-alice-ipythondir-startup" in own, own
    env.hub.stop_server(ALICE, GRANT)

    r = env.hub.start_server(BOB, GRANT)
    assert r.status_code in (201, 202), r.text
    in_home = run(env, BOB, VICTIM)
    in_project = run(env, BOB, VICTIM, path="project")
    in_outbox = run(env, BOB, VICTIM, path="outbox")
    after = markers(env)  # the volume is mounted on the host while a member's server runs
    layout = WorkspaceLayout.of(GRANT, env.workspace_root, env.run_root)
    bob_home = layout.home / members.MEMBERS / members.member_key(BOB)
    bob_files = sorted(str(p.relative_to(bob_home)) for p in bob_home.rglob("*"))
    env.hub.stop_server(BOB, GRANT)

    assert [m for m in after if m.startswith(f"PLANT-RAN-{BOB}-")] == []
    assert [m for m in after if m.startswith("PLANT-RAN-")] == own  # nothing ran as anyone
    # none of alice's plants is in bob's home (his server made its own files there)
    assert not [f for f in bob_files if "plant" in f or f.endswith((".bashrc", ".profile"))]
    for seen in (in_home, in_project, in_outbox):
        assert seen["path_has_cwd"] is False
        assert "/home/workspace" not in seen["polars"] and "/home/workspace" not in seen["numpy"]
        assert seen["child"] == "ok"
        assert set(seen["shells"].values()) == {0}
        assert "outbox" in seen["home"] and "project" in seen["home"]
        assert seen["dirs"] == {
            "JUPYTER_CONFIG_DIR": "/home/workspace/.jupyter",
            "JUPYTER_DATA_DIR": "/home/workspace/.local/share/jupyter",
            "IPYTHONDIR": "/home/workspace/.ipython",
            "PYTHONUSERBASE": "/home/workspace/.local",
            "PYTHONSAFEPATH": "1",
            "JUPYTER_PATH": None,
        }
    assert in_project["cwd"] == "/home/workspace/project"

    # alice, back in the workspace, finds bob's token in no file she can read
    r = env.hub.start_server(ALICE, GRANT)
    assert r.status_code in (201, 202), r.text
    hunt = HUNT.replace("NEEDLE", repr(in_home["token"]))
    got = run(env, ALICE, hunt.replace("ENV_DIR", repr(str(get_settings().workspace_env))))
    env.hub.stop_server(ALICE, GRANT)
    assert got["own_differs"] is True
    assert got["read"] > 20
    assert got["found"] == []
