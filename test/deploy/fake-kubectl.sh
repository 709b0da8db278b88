#!/usr/bin/env bash
# A stand-in for kubectl in restore-k8s tests: records every call (one line of arguments in
# $FAKE_KUBECTL_DIR/calls) and answers like kubectl for the few commands the script uses, keeping the
# Deployment's replica count in $FAKE_KUBECTL_DIR/replicas. Anything else fails loudly.
# Knobs: FAKE_POD_POLLS (listings that still show pods after a scale to 0, default 1),
# FAKE_JOB_RESULT (succeeded|failed, default succeeded), FAKE_ROLLOUT_FAIL=1, FAKE_REAL_KUBECTL (the
# real binary, for the client-side `create secret --dry-run=client`).
set -euo pipefail
state=${FAKE_KUBECTL_DIR:?FAKE_KUBECTL_DIR must be set}
printf '%s\n' "$*" >>"$state/calls"
original=("$@")

args=()
while (($# > 0)); do
  case $1 in
    -n | --namespace | --context) shift 2 ;;
    *) args+=("$1") && shift ;;
  esac
done
set -- "${args[@]}"
replicas=$(cat "$state/replicas" 2>/dev/null || echo 3)

case "$*" in
  "get deployment transportation-api -o jsonpath={.spec.replicas}")
    printf '%s' "$replicas"
    ;;
  "scale deployment/transportation-api --replicas="*)
    printf '%s' "${3#--replicas=}" >"$state/replicas"
    echo 0 >"$state/pod-polls"
    echo "deployment.apps/transportation-api scaled"
    ;;
  "get pods -l app=transportation-api -o name")
    polls=$(cat "$state/pod-polls" 2>/dev/null || echo 0)
    echo $((polls + 1)) >"$state/pod-polls"
    if ((replicas > 0 || polls < ${FAKE_POD_POLLS:-1})); then
      echo "pod/transportation-api-7d9c-a1"
      echo "pod/transportation-api-7d9c-b2"
    fi
    ;;
  "create secret generic transportation-secrets "*"--dry-run=client -o yaml")
    # Rendering a Secret needs no cluster: hand it to the real kubectl.
    exec "${FAKE_REAL_KUBECTL:?FAKE_REAL_KUBECTL must point at the real kubectl}" "${original[@]}"
    ;;
  "apply -f -")
    n=$(find "$state" -name 'applied-*.yaml' | wc -l)
    cat >"$state/applied-$n.yaml"
    name=$(sed -n 's/^  name: //p' "$state/applied-$n.yaml" | head -n 1)
    echo "job.batch/$name created"
    ;;
  "get job transportation-restore-"*" -o jsonpath={.status.succeeded}/{.status.failed}")
    if [[ ${FAKE_JOB_RESULT:-succeeded} == succeeded ]]; then printf '1/'; else printf '/1'; fi
    ;;
  "logs job/transportation-restore-"*)
    echo "restore: (fake) job logs"
    ;;
  "rollout status deployment/transportation-api --timeout="*)
    if [[ ${FAKE_ROLLOUT_FAIL:-0} == 1 ]]; then
      echo 'error: deployment "transportation-api" exceeded its progress deadline' >&2
      exit 1
    fi
    echo "deployment \"transportation-api\" successfully rolled out"
    ;;
  *)
    echo "fake kubectl: unsupported command: $*" >&2
    exit 1
    ;;
esac
