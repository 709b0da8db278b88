#!/usr/bin/env bash
# A stand-in for kubectl in restore-k8s tests: records every call (one line of arguments in
# $FAKE_KUBECTL_DIR/calls) and answers like kubectl for the few commands the script uses, keeping the
# Deployment's replica count in $FAKE_KUBECTL_DIR/replicas and its annotations in .../annotations
# (key<TAB>value lines). Anything else fails loudly. As the kubectl reference says
# (https://kubernetes.io/docs/reference/kubectl/generated/kubectl_annotate/): `annotate KEY=VALUE`
# refuses to change an existing value without --overwrite, `annotate KEY-` removes the key; jsonpath
# prints an absent field as nothing; `delete --cascade=foreground --wait` returns once the Job and its
# pods are gone, after which the Job is NotFound.
# Knobs: FAKE_POD_POLLS (listings that still show pods after a scale to 0, default 1),
# FAKE_JOB_RESULT (succeeded|failed|running, default succeeded), FAKE_ACTIVE_JOBS (what
# `get jobs … {.items[*].status.active}` prints), FAKE_ROLLOUT_FAIL=1, FAKE_REAL_KUBECTL (the real
# binary, for the client-side `create secret --dry-run=client`).
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
  "get deployment transportation-api -o jsonpath={.metadata.annotations."*)
    key=${5#jsonpath=\{.metadata.annotations.}
    key=${key%\}}
    key=${key//\\./.}
    awk -F '\t' -v k="$key" '$1 == k { printf "%s", $2 }' "$state/annotations" 2>/dev/null || true
    ;;
  "annotate deployment/transportation-api "*)
    touch "$state/annotations"
    overwrite=false
    for pair in "${@:3}"; do [[ $pair == --overwrite ]] && overwrite=true; done
    for pair in "${@:3}"; do
      [[ $pair == --overwrite ]] && continue
      if [[ $pair == *- && $pair != *=* ]]; then
        awk -F '\t' -v k="${pair%-}" '$1 != k' "$state/annotations" >"$state/annotations.new"
      else
        key=${pair%%=*}
        old=$(awk -F '\t' -v k="$key" '$1 == k { print $2 }' "$state/annotations")
        if [[ -n $old && $old != "${pair#*=}" ]] && ! $overwrite; then
          echo "error: --overwrite is false but found the following declared annotation(s): '$key' already has a value ($old)" >&2
          exit 1
        fi
        { awk -F '\t' -v k="$key" '$1 != k' "$state/annotations"; printf '%s\t%s\n' "$key" "${pair#*=}"; } >"$state/annotations.new"
      fi
      mv "$state/annotations.new" "$state/annotations"
    done
    echo "deployment.apps/transportation-api annotated"
    ;;
  "get jobs -l app=transportation-restore -o jsonpath={.items[*].status.active}")
    printf '%s' "${FAKE_ACTIVE_JOBS:-}"
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
    if [[ -e $state/deleted-$3 ]]; then
      echo "Error from server (NotFound): jobs.batch \"$3\" not found" >&2
      exit 1
    fi
    case ${FAKE_JOB_RESULT:-succeeded} in
      succeeded) printf '1/' ;;
      failed) printf '/1' ;;
      running) printf '/' ;;
    esac
    ;;
  "delete job transportation-restore-"*" --cascade=foreground --wait=true --timeout="*)
    touch "$state/deleted-$3"
    echo "job.batch \"$3\" deleted"
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
