#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those missing (idempotent, CI and laptops).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/15/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# test/integration/pgbouncer.test.ts runs the app through a real PgBouncer; the soak runs wrk.
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# Info-ZIP's zip: tests build archives the way publishers do (Zip64, stored, encrypted).
command -v zip >/dev/null 2>&1 || missing+=(zip)
# promtool (alert rule tests), Prometheus and the Pushgateway (metrics integration tests).
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
# test/integration/docs-page.test.ts opens /swagger in Debian's chromium (driven by playwright-core).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's package starts a cluster on 5432; tests start their own throwaway servers instead.
  if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster 15 main stop 2>/dev/null || true; fi
  if command -v service >/dev/null 2>&1; then
    for s in redis-server pgbouncer prometheus prometheus-pushgateway prometheus-node-exporter; do
      service "$s" stop >/dev/null 2>&1 || true
    done
  fi
fi
echo "system packages: ok"
