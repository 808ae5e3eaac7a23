# Sourced by the Makefile's recipes: the environment Reflex needs on these machines.
export PATH="$PWD/.venv/bin:$PWD/.tools/node_modules/.bin:$PATH"
export REFLEX_CHECK_LATEST_VERSION=0
export REFLEX_TELEMETRY_ENABLED=false
# Use the registry npm is configured with; otherwise Reflex probes a second mirror.
NPM_CONFIG_REGISTRY="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
export NPM_CONFIG_REGISTRY
