#!/usr/bin/env bash
# Installs everything the project needs, idempotently, on a fresh Debian machine:
#   scripts/bootstrap.sh           the app: a virtualenv with pinned packages, and bun for Reflex
#   scripts/bootstrap.sh --dev     also test tools, Debian's Chromium for the browser tests, and
#                                  the servers the scale-out tests start (scripts/servers.sh)
# Nothing is downloaded from outside the package registries (PyPI, npm, Debian, Maven Central).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1
requirements=requirements.txt
(( dev )) && requirements=requirements-dev.txt

# Python packages, reinstalled only when the requirement files change.
[[ -x .venv/bin/python ]] || python3 -m venv .venv
stamp=.venv/.installed-$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)
if [[ ! -f "$stamp" ]]; then
  echo "==> Installing Python packages ($requirements)"
  # Playwright must never fetch a browser of its own: the tests drive Debian's Chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 .venv/bin/pip install --quiet --disable-pip-version-check \
    -r "$requirements"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Reflex builds its frontend with bun >= 1.4.4 (or Node >= 22); the machine has Node 20, and
# Reflex's own bun download cannot work offline, so bun comes from the npm registry instead.
if [[ ! -x .tools/node_modules/.bin/bun ]]; then
  echo "==> Installing bun from the npm registry"
  npm install --prefix .tools --no-audit --no-fund --loglevel=error bun@1.4.4
fi

# Video posters, durations and voice-note waveforms come from Debian's ffmpeg (the app needs it).
if [[ ! -x /usr/bin/ffmpeg || ! -x /usr/bin/ffprobe ]]; then
  echo "==> Installing Debian's ffmpeg for media processing"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq ffmpeg >/dev/null
fi

if (( dev )) && [[ ! -x /usr/bin/chromium ]]; then
  echo "==> Installing Debian's Chromium for the browser tests"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

# Redis, PostgreSQL (apt) and Cassandra (Maven Central) for the scale-out adapters' tests.
if (( dev )); then
  scripts/servers.sh install
fi
