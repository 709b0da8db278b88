#!/usr/bin/env bash
# Creates or updates the Secret `transportation-secrets` from environment variables, so no secret value
# is ever committed. Values reach kubectl through files readable only by this user, never through argv.
#
# Usage: DATABASE_URL=... REDIS_URL=... API_KEY=... API_SECRET=... create-secret.sh [options]
#   -n, --namespace NS  default transportation-system
#   --context CTX       kubeconfig context
#   --keys K1,K2        only these keys (and only their variables are needed), e.g. `--keys database-url`
#                       for the backup namespace, which needs nothing else
#   --print             print the Secret manifest instead of applying it (contains the secrets!)
set -euo pipefail

die() {
  printf 'create-secret: ERROR: %s\n' "$*" >&2
  exit 1
}

namespace=transportation-system
context=""
print=false
keys=database-url,redis-url,api-key,api-secret
while (($# > 0)); do
  case $1 in
    -n | --namespace) namespace=${2:?--namespace needs a value} && shift 2 ;;
    --context) context=${2:?--context needs a value} && shift 2 ;;
    --print) print=true && shift ;;
    --keys) keys=${2:?--keys needs a value} && shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' && exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# Secret key -> environment variable.
declare -A variable=([database-url]=DATABASE_URL [redis-url]=REDIS_URL [api-key]=API_KEY [api-secret]=API_SECRET)
IFS=, read -ra wanted <<<"$keys"
((${#wanted[@]} > 0)) || die "--keys names no key"
missing=()
for key in "${wanted[@]}"; do
  [[ -n ${variable[$key]:-} ]] || die "unknown key '$key' (keys: database-url, redis-url, api-key, api-secret)"
  var=${variable[$key]}
  [[ -n ${!var:-} ]] || missing+=("$var")
done
((${#missing[@]} == 0)) || die "set ${missing[*]} (values are not echoed)"

kube_args=(--namespace "$namespace")
if [[ -n $context ]]; then kube_args+=(--context "$context"); fi

umask 077
dir=$(mktemp -d)
trap 'rm -rf -- "$dir"' EXIT
from_files=()
for key in "${wanted[@]}"; do
  var=${variable[$key]}
  printf '%s' "${!var}" >"$dir/$key"
  from_files+=("--from-file=$key=$dir/$key")
done

manifest=$(kubectl "${kube_args[@]}" create secret generic transportation-secrets "${from_files[@]}" \
  --dry-run=client -o yaml)
if $print; then
  printf '%s\n' "$manifest"
else
  # apply (not create) so the same command rotates existing values.
  printf '%s\n' "$manifest" | kubectl "${kube_args[@]}" apply -f - >&2
  printf 'create-secret: transportation-secrets applied in namespace %s (keys: %s)\n' "$namespace" "${wanted[*]}" >&2
fi
