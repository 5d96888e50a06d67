#!/usr/bin/env bash
# Build the read-only Python environment of the workspaces from Debian's python3 (not the hub's),
# at $PDS_WORKSPACE_ENV (default /opt/pds/workspace-env), with the pinned packages of
# sandbox/workspace-requirements.txt and the in-workspace client (sandbox.client).
# Idempotent: a stamp of the inputs makes a second run a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
env_dir=${PDS_WORKSPACE_ENV:-/opt/pds/workspace-env}
python=${PDS_WORKSPACE_PYTHON:-/usr/bin/python3}
client_files=(sandbox/__init__.py sandbox/exceptions.py sandbox/client.py sandbox/dp.py sandbox/labguard.py sandbox/podstart.py)
stamp=$(cat sandbox/workspace-requirements.txt "${client_files[@]}" | sha256sum | cut -c1-64)
if [ -f "$env_dir/.pds-stamp" ] && [ "$(cat "$env_dir/.pds-stamp")" = "$stamp" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] && [ ! -w "$(dirname "$env_dir")" ]; then
    echo "pds: cannot write $env_dir (run as root or set PDS_WORKSPACE_ENV)" >&2
    exit 1
fi
echo "building the workspace environment in $env_dir"
mkdir -p "$(dirname "$env_dir")"
[ -x "$env_dir/bin/python" ] || "$python" -m venv "$env_dir"
"$env_dir/bin/pip" install -q --disable-pip-version-check -r sandbox/workspace-requirements.txt
site=$("$env_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -rf "$site/sandbox"
mkdir -p "$site/sandbox"
cp "${client_files[@]}" "$site/sandbox/"
"$env_dir/bin/python" -m compileall -q "$site/sandbox" >/dev/null
"$env_dir/bin/python" -c "import polars, sandbox.client, sandbox.dp, sandbox.labguard" >/dev/null
chmod -R a+rX,go-w "$env_dir"
echo "$stamp" > "$env_dir/.pds-stamp"
