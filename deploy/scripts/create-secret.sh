#!/usr/bin/env bash
# Creates or updates the Secret `transportation-secrets` from environment variables, so no secret value
# is ever committed. Values reach kubectl through files readable only by this user, never through argv.
#
# Usage: DATABASE_URL=... REDIS_URL=... API_KEY=... API_SECRET=... create-secret.sh [options]
#   -n, --namespace NS  default transportation-system
#   --context CTX       kubeconfig context
#   --print             print the Secret manifest instead of applying it (contains the secrets!)
set -euo pipefail

die() {
  printf 'create-secret: ERROR: %s\n' "$*" >&2
  exit 1
}

namespace=transportation-system
context=""
print=false
while (($# > 0)); do
  case $1 in
    -n | --namespace) namespace=${2:?--namespace needs a value} && shift 2 ;;
    --context) context=${2:?--context needs a value} && shift 2 ;;
    --print) print=true && shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' && exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

missing=()
for var in DATABASE_URL REDIS_URL API_KEY API_SECRET; do
  [[ -n ${!var:-} ]] || missing+=("$var")
done
((${#missing[@]} == 0)) || die "set ${missing[*]} (values are not echoed)"

kube_args=(--namespace "$namespace")
if [[ -n $context ]]; then kube_args+=(--context "$context"); fi

umask 077
dir=$(mktemp -d)
trap 'rm -rf -- "$dir"' EXIT
printf '%s' "$DATABASE_URL" >"$dir/database-url"
printf '%s' "$REDIS_URL" >"$dir/redis-url"
printf '%s' "$API_KEY" >"$dir/api-key"
printf '%s' "$API_SECRET" >"$dir/api-secret"

manifest=$(kubectl "${kube_args[@]}" create secret generic transportation-secrets \
  --from-file="database-url=$dir/database-url" --from-file="redis-url=$dir/redis-url" \
  --from-file="api-key=$dir/api-key" --from-file="api-secret=$dir/api-secret" \
  --dry-run=client -o yaml)
if $print; then
  printf '%s\n' "$manifest"
else
  # apply (not create) so the same command rotates existing values.
  printf '%s\n' "$manifest" | kubectl "${kube_args[@]}" apply -f - >&2
  printf 'create-secret: transportation-secrets applied in namespace %s (keys: database-url redis-url api-key api-secret)\n' "$namespace" >&2
fi
