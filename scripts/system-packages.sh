#!/usr/bin/env bash
# Install the Debian packages the platform needs, once; a no-op when they are present.
set -euo pipefail
needed=()
command -v bwrap >/dev/null || needed+=(bubblewrap)
command -v socat >/dev/null || needed+=(socat)
command -v chromium >/dev/null || needed+=(chromium)
command -v mkfs.ext4 >/dev/null || needed+=(e2fsprogs)
command -v useradd >/dev/null || needed+=(passwd)
command -v mount >/dev/null || needed+=(mount)
[ -d /usr/share/fonts/opentype/noto ] || needed+=(fonts-noto-cjk)
python3_venv_ok=$(/usr/bin/python3 -c 'import ensurepip' 2>/dev/null && echo yes || echo no)
[ "$python3_venv_ok" = yes ] || needed+=(python3-venv)
if [ ${#needed[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "pds: missing Debian packages: ${needed[*]} (run as root or install them)" >&2
    exit 1
fi
echo "installing Debian packages: ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
