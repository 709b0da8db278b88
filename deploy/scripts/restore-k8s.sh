#!/usr/bin/env bash
# Restores a database backup in Kubernetes with the API stopped:
#   1. note the Deployment's replica count;
#   2. scale it to 0 and wait until its pods are gone (nothing writes or holds locks);
#   3. restore: by default a one-off Job (postgres:15 + restore.sh) reads BACKUP from the backup volume;
#      with --local, deploy/scripts/restore.sh runs here against DATABASE_URL (e.g. a port-forward);
#   4. scale back to the noted count and wait for the rollout to be ready. Step 4 also runs when the
#      restore failed or the script is interrupted: a failed restore is rolled back, the old data stays.
#
# Usage: restore-k8s.sh [options] BACKUP
#   BACKUP              file name on the backup volume (transportation_db_YYYYmmdd_HHMMSS.dump or
#                       `latest`); with --local, a local file path
#   -n, --namespace NS  default transportation-system
#   --context CTX       kubeconfig context
#   --replicas N        scale back to N (needed when the Deployment already stands at 0)
#   --local             restore from this machine with DATABASE_URL instead of an in-cluster Job
#   --timeout SECONDS   limit for each wait (default 600)
#   --image IMAGE       restore Job image (default postgres:15)
# Environment: POLL_INTERVAL seconds between status checks (default 5).
set -euo pipefail

readonly DEPLOYMENT=transportation-api
readonly POD_SELECTOR=app=transportation-api
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

log() { printf '%s restore-k8s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

namespace=transportation-system
context=""
replicas=""
local_mode=false
timeout=600
image=postgres:15
backup=""
poll=${POLL_INTERVAL:-5}
while (($# > 0)); do
  case $1 in
    -n | --namespace) namespace=${2:?--namespace needs a value} && shift 2 ;;
    --context) context=${2:?--context needs a value} && shift 2 ;;
    --replicas) replicas=${2:?--replicas needs a value} && shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value} && shift 2 ;;
    --image) image=${2:?--image needs a value} && shift 2 ;;
    --local) local_mode=true && shift ;;
    -h | --help) usage && exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
      [[ -z $backup ]] || die "only one backup can be restored at a time"
      backup=$1
      shift
      ;;
  esac
done
[[ -n $backup ]] || die "no backup given (see --help)"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
[[ -z $replicas || $replicas =~ ^[0-9]+$ ]] || die "--replicas must be a number"
if $local_mode; then
  [[ -n ${DATABASE_URL:-} || -n ${PGHOST:-} ]] || die "--local needs DATABASE_URL (or PG* variables) for the target database"
  [[ -r $backup ]] || die "no readable backup file at $backup"
elif [[ ! $backup =~ ^(latest|transportation_db_[0-9]{8}_[0-9]{6}\.dump)$ ]]; then
  die "BACKUP must be a file name on the backup volume (transportation_db_YYYYmmdd_HHMMSS.dump) or latest"
fi

kube_args=(--namespace "$namespace")
if [[ -n $context ]]; then kube_args+=(--context "$context"); fi
k() { kubectl "${kube_args[@]}" "$@"; }

# Polls `$@` until it prints $want (or, with want=-, prints nothing); fails after $timeout seconds.
wait_for_output() {
  local what=$1 want=$2 deadline=$((SECONDS + timeout)) out
  shift 2
  while :; do
    out=$("$@") || die "$what: '$*' failed"
    if [[ $want == - && -z $out ]] || [[ $want != - && $out == "$want" ]]; then return 0; fi
    ((SECONDS < deadline)) || die "$what: still '$out' after ${timeout}s"
    sleep "$poll"
  done
}

current=$(k get deployment "$DEPLOYMENT" -o 'jsonpath={.spec.replicas}') ||
  die "cannot read deployment/$DEPLOYMENT in namespace $namespace"
target=${replicas:-$current}
[[ $target =~ ^[0-9]+$ ]] || die "deployment/$DEPLOYMENT reports replicas '$current'"
if ((target == 0)); then
  die "deployment/$DEPLOYMENT already stands at 0 replicas; pass --replicas N to say how many to start afterwards"
fi

scaled_down=false
scale_back() {
  local rc=$?
  trap - EXIT INT TERM
  if $scaled_down; then
    log "scaling deployment/$DEPLOYMENT back to $target replicas"
    if k scale "deployment/$DEPLOYMENT" "--replicas=$target" >&2 &&
      k rollout status "deployment/$DEPLOYMENT" "--timeout=${timeout}s" >&2; then
      log "deployment/$DEPLOYMENT is ready with $target replicas"
    else
      log "ERROR: deployment/$DEPLOYMENT did not become ready; check: kubectl -n $namespace get pods -l $POD_SELECTOR"
      log "(a backup older than the running release's migrations leaves /ready at 503 'pending migration(s)':" \
        "run the release's migration, e.g. npm run deploy of the same version; docs/operations.md, Restore)"
      ((rc != 0)) || rc=1
    fi
  fi
  exit "$rc"
}
trap scale_back EXIT
trap 'exit 130' INT TERM

log "stopping deployment/$DEPLOYMENT (now $current replicas) in namespace $namespace"
k scale "deployment/$DEPLOYMENT" --replicas=0 >&2 || die "cannot scale deployment/$DEPLOYMENT to 0"
scaled_down=true
wait_for_output "waiting for the API pods to stop" - k get pods -l "$POD_SELECTOR" -o name

restore_job_manifest() {
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  namespace: $namespace
  labels:
    app: transportation-restore
spec:
  backoffLimit: 0
  activeDeadlineSeconds: $timeout
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        app: transportation-restore
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        runAsGroup: 999
        fsGroup: 999
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: restore
          image: $image
          imagePullPolicy: IfNotPresent
          command: ["bash", "/opt/transportation/scripts/restore.sh", "$2"]
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: transportation-secrets
                  key: database-url
            - name: BACKUP_DIR
              value: /backups
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              cpu: 1000m
              memory: 1Gi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: backups
              mountPath: /backups
              readOnly: true
            - name: scripts
              mountPath: /opt/transportation/scripts
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: backups
          persistentVolumeClaim:
            claimName: transportation-backups
        - name: scripts
          configMap:
            name: transportation-backup-scripts
            defaultMode: 0555
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
EOF
}

if $local_mode; then
  log "restoring $backup from this machine"
  bash "$script_dir/restore.sh" "$backup" || die "restore failed (rolled back, the database is unchanged)"
else
  [[ $backup == latest ]] && file=latest || file=/backups/$backup
  job="transportation-restore-$(date -u +%Y%m%d%H%M%S)"
  log "restoring $backup in job/$job"
  restore_job_manifest "$job" "$file" | k apply -f - >&2 || die "cannot create job/$job"
  deadline=$((SECONDS + timeout))
  while :; do
    status=$(k get job "$job" -o 'jsonpath={.status.succeeded}/{.status.failed}') || die "cannot read job/$job"
    [[ $status == 1/* || $status == */[1-9]* ]] && break
    ((SECONDS < deadline)) || die "job/$job did not finish within ${timeout}s"
    sleep "$poll"
  done
  k logs "job/$job" >&2 || log "(no logs from job/$job)"
  [[ $status == 1/* ]] || die "job/$job failed (rolled back, the database is unchanged)"
fi
log "restore of $backup complete"
