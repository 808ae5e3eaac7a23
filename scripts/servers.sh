#!/usr/bin/env bash
# The real servers behind the scale-out adapters, for tests and benchmarks:
#   scripts/servers.sh install                 Debian's redis-server and postgresql (apt), and
#                                              Apache Cassandra's jars from Maven Central
#   scripts/servers.sh start|stop|status|env [redis|postgres|cassandra ...]
# Servers listen on loopback on non-default ports with their data in /tmp/messenger-servers-*;
# `start` reuses running ones. `make test` needs nothing of this by hand: bootstrap.sh --dev
# installs, and the pytest session starts what the tests use (tests/engines.py).
set -euo pipefail
cd "$(dirname "$0")/.."

install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  if (( ${#missing[@]} )); then
    echo "==> Installing ${missing[*]} (apt)"
    local sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
    # Debian's package starts a system-wide cluster/server; ours run on their own ports.
  fi
  # The jars, fetched again only when the pom changes.
  local stamp
  stamp="scripts/cassandra/lib/.pom-$(sha256sum scripts/cassandra/pom.xml | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    echo "==> Fetching Apache Cassandra from Maven Central"
    rm -rf scripts/cassandra/lib
    (cd scripts/cassandra && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory=lib -DincludeScope=runtime)
    touch "$stamp"
  fi
}

case "${1:-}" in
  install) install ;;
  start|stop|status|env)
    python=python3
    [[ -x .venv/bin/python ]] && python=.venv/bin/python
    exec "$python" scripts/servers.py "$@" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
