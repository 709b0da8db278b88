#!/usr/bin/env bash
# Restores a database backup in Kubernetes with the API stopped, in this order:
#   1. mark the Deployment as being restored (annotation transportation-ai.com/restore-in-progress, with
#      its replica count): `npm run deploy` and `npm run config:apply` refuse to touch it while it is set;
#   2. scale it to 0 and wait until its pods are gone (nothing writes or holds locks);
#   3. restore: by default a one-off Job (postgres:15 + restore.sh) in the backup namespace reads BACKUP
#      from the backup volume;
#      with --local, deploy/scripts/restore.sh runs here against DATABASE_URL (e.g. a port-forward);
#   4. verify: the Job succeeded (restore.sh checks the restored migration history before it does);
#   5. scale back to the noted count, wait for the rollout, remove the mark.
# A restore that fails is rolled back by restore.sh (the database is as before), so step 5 follows it
# too. An interruption (SIGINT, SIGTERM) or the --timeout while the restore runs stops the restore —
# the Job is deleted and its pod waited for, its transaction rolls back — and leaves the API DOWN and
# marked, with a message saying how to go on: never up on a database whose restore may still commit.
#
# Usage: restore-k8s.sh [options] BACKUP
#   BACKUP              file name on the backup volume (transportation_db_YYYYmmdd_HHMMSS.dump or
#                       `latest`); with --local, a local file path
#   -n, --namespace NS  the application's namespace (default transportation-system)
#   --backup-namespace NS  where the backup volume and the restore Job are (default transportation-backup)
#   --context CTX       kubeconfig context
#   --replicas N        scale back to N (needed when the Deployment already stands at 0)
#   --resume            continue after an interrupted restore (the Deployment is still marked): the
#                       replica count comes from the mark unless --replicas says otherwise
#   --local             restore from this machine with DATABASE_URL instead of an in-cluster Job
#   --timeout SECONDS   limit for each wait (default 600)
#   --image IMAGE       restore Job image (default: the backup CronJob's postgres:15 by digest)
# Environment: POLL_INTERVAL seconds between status checks (default 5).
set -euo pipefail

readonly DEPLOYMENT=transportation-api
readonly POD_SELECTOR=app=transportation-api
# The mark deploy tooling honours (scripts/ops/lib/restore-guard.ts reads the same key).
readonly RESTORE_ANNOTATION=transportation-ai.com/restore-in-progress
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

log() { printf '%s restore-k8s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

namespace=transportation-system
backup_namespace=transportation-backup
context=""
replicas=""
resume=false
local_mode=false
timeout=600
# The backup CronJob's image (deploy/k8s/backup/base/cronjob.yaml; a test keeps the two equal).
image=postgres:15.19@sha256:dfbbb0ad8cab91d41e99123664e37a9b25d0413426d4fb3154e4d668e5d35246
backup=""
poll=${POLL_INTERVAL:-5}
while (($# > 0)); do
  case $1 in
    -n | --namespace) namespace=${2:?--namespace needs a value} && shift 2 ;;
    --backup-namespace) backup_namespace=${2:?--backup-namespace needs a value} && shift 2 ;;
    --context) context=${2:?--context needs a value} && shift 2 ;;
    --replicas) replicas=${2:?--replicas needs a value} && shift 2 ;;
    --resume) resume=true && shift ;;
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
  [[ -n ${DATABASE_URL:-} ]] || die "--local needs DATABASE_URL for the target database"
  [[ -r $backup ]] || die "no readable backup file at $backup"
elif [[ ! $backup =~ ^(latest|transportation_db_[0-9]{8}_[0-9]{6}\.dump)$ ]]; then
  die "BACKUP must be a file name on the backup volume (transportation_db_YYYYmmdd_HHMMSS.dump) or latest"
fi

context_args=()
if [[ -n $context ]]; then context_args=(--context "$context"); fi
# k: the application's namespace; kb: the backup namespace (volume, restore Job).
k() { kubectl --namespace "$namespace" "${context_args[@]}" "$@"; }
kb() { kubectl --namespace "$backup_namespace" "${context_args[@]}" "$@"; }
# jsonpath needs the dots of an annotation key escaped.
readonly MARK_PATH="{.metadata.annotations.${RESTORE_ANNOTATION//./\\.}}"

# Background child + wait, so a trapped signal acts at once (bash runs traps between foreground commands).
child=""
interruptible() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}
pause() { interruptible sleep "$poll"; }

# Polls `$@` until it prints nothing; returns 1, with the reason logged, after $timeout seconds.
wait_until_empty() {
  local what=$1 deadline=$((SECONDS + timeout)) out
  shift
  while :; do
    out=$("$@") || {
      log "ERROR: $what: '$*' failed"
      return 1
    }
    [[ -n $out ]] || return 0
    if ((SECONDS >= deadline)); then
      log "ERROR: $what: still '$(tr '\n' ' ' <<<"$out")' after ${timeout}s"
      return 1
    fi
    pause
  done
}

current=$(k get deployment "$DEPLOYMENT" -o 'jsonpath={.spec.replicas}') ||
  die "cannot read deployment/$DEPLOYMENT in namespace $namespace"
mark=$(k get deployment "$DEPLOYMENT" -o "jsonpath=$MARK_PATH") || die "cannot read deployment/$DEPLOYMENT"
if [[ -n $mark ]]; then
  $resume || die "deployment/$DEPLOYMENT is marked as being restored ($mark): another restore-k8s.sh may be running." \
    "If none is (it was interrupted), run again with --resume"
  active=$(kb get jobs -l app=transportation-restore -o 'jsonpath={.items[*].status.active}') ||
    die "cannot list the restore Jobs"
  [[ -z ${active//[0 ]/} ]] ||
    die "a restore Job is still running (kubectl -n $backup_namespace get jobs -l app=transportation-restore); wait for it or delete it first"
  noted=$(sed -n 's/.*replicas=\([0-9]*\).*/\1/p' <<<"$mark")
  target=${replicas:-$noted}
  log "resuming an interrupted restore ($mark)"
else
  $resume && die "--resume: deployment/$DEPLOYMENT is not marked as being restored; nothing to resume"
  target=${replicas:-$current}
fi
[[ $target =~ ^[0-9]+$ ]] || die "deployment/$DEPLOYMENT reports replicas '$current'"
if ((target == 0)); then
  die "deployment/$DEPLOYMENT already stands at 0 replicas; pass --replicas N to say how many to start afterwards"
fi

# Leaves the API down and says so: the state after an interruption, when a restore may not be over.
leave_down() {
  log "ERROR: $1"
  log "The API is DOWN: deployment/$DEPLOYMENT stands at 0 replicas and keeps the mark $RESTORE_ANNOTATION," \
    "so no deploy scales it up. Check the database, then either restore again:" \
    "deploy/scripts/restore-k8s.sh --resume -n $namespace $backup" \
    "— or serve the data as it is: kubectl -n $namespace scale deployment/$DEPLOYMENT --replicas=$target &&" \
    "kubectl -n $namespace annotate deployment/$DEPLOYMENT $RESTORE_ANNOTATION-"
  exit "$2"
}

# Scales back up and removes the mark: after a restore that succeeded, or failed and was rolled back.
bring_back() {
  local rc=$1
  phase=finishing
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
  k annotate "deployment/$DEPLOYMENT" "$RESTORE_ANNOTATION-" >&2 || log "warning: cannot remove the mark $RESTORE_ANNOTATION"
  exit "$rc"
}

# What an interruption does depends on how far the restore got (phase): before it started, nothing that
# matters has changed (scale back and unmark); while it runs, stop it and leave the API down; while the
# API is being brought back, leave that to the person.
job=""
phase=preparing
# shellcheck disable=SC2317 # called from the traps below
on_signal() {
  local signal=$1 code=$2
  trap '' INT TERM
  case $phase in
    preparing)
      if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
      log "interrupted by SIG$signal before the restore started"
      exit "$code"
      ;;
    stopping)
      if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
      log "interrupted by SIG$signal before the restore started"
      bring_back "$code"
      ;;
    finishing)
      log "interrupted by SIG$signal while bringing the API back: check kubectl -n $namespace rollout status deployment/$DEPLOYMENT" \
        "and remove the mark: kubectl -n $namespace annotate deployment/$DEPLOYMENT $RESTORE_ANNOTATION-"
      exit "$code"
      ;;
  esac
  if $local_mode; then
    # restore.sh ends its session on the server (rolling back) and exits; wait for that.
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    leave_down "interrupted by SIG$signal: restore.sh was stopped (its transaction rolled back unless it had already committed)" "$code"
  fi
  stop_job "interrupted by SIG$signal" "$code"
}
# Deletes the Job and waits until its pod is gone (foreground cascading deletion: the Job object goes
# last, https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion);
# restore.sh in it gets SIGTERM and rolls back.
stop_job() {
  local why=$1 code=$2 status
  status=$(kb get job "$job" -o 'jsonpath={.status.succeeded}/{.status.failed}' 2>/dev/null || echo "?")
  if kb delete job "$job" --cascade=foreground --wait=true "--timeout=${timeout}s" >&2; then
    if [[ $status == 1/* ]]; then
      leave_down "$why: job/$job had already finished the restore; check the data before bringing the API back" "$code"
    fi
    leave_down "$why: job/$job was deleted and its pod has stopped; its transaction rolled back, the database is as before the restore" "$code"
  fi
  leave_down "$why: job/$job could not be deleted; it may still be restoring — do not bring the API back before" \
    "kubectl -n $backup_namespace get pods -l job-name=$job shows no running pod" "$code"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

if [[ -z $mark ]]; then
  k annotate "deployment/$DEPLOYMENT" \
    "$RESTORE_ANNOTATION=since=$(date -u +%Y-%m-%dT%H:%M:%SZ) replicas=$target backup=$(basename -- "$backup") by=${USER:-unknown}@$(hostname)" >&2 ||
    die "cannot mark deployment/$DEPLOYMENT as being restored"
fi
phase=stopping

log "stopping deployment/$DEPLOYMENT (now $current replicas) in namespace $namespace"
k scale "deployment/$DEPLOYMENT" --replicas=0 >&2 || bring_back 1
wait_until_empty "waiting for the API pods to stop" k get pods -l "$POD_SELECTOR" -o name || bring_back 1

restore_job_manifest() {
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  namespace: $backup_namespace
  labels:
    app: transportation-restore
spec:
  backoffLimit: 0
  # Later than this script's own --timeout, which stops the Job itself and leaves the API down.
  activeDeadlineSeconds: $((timeout + 300))
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        app: transportation-restore
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      # restore.sh rolls back on SIGTERM; time enough for it before SIGKILL.
      terminationGracePeriodSeconds: 60
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

phase=restoring
if $local_mode; then
  log "restoring $backup from this machine"
  if ! interruptible bash "$script_dir/restore.sh" "$backup"; then
    log "ERROR: restore failed (rolled back, the database is unchanged)"
    bring_back 1
  fi
else
  [[ $backup == latest ]] && file=latest || file=/backups/$backup
  job="transportation-restore-$(date -u +%Y%m%d%H%M%S)"
  log "restoring $backup in job/$job (namespace $backup_namespace)"
  restore_job_manifest "$job" "$file" | kb apply -f - >&2 || stop_job "cannot create job/$job" 1
  deadline=$((SECONDS + timeout))
  while :; do
    status=$(kb get job "$job" -o 'jsonpath={.status.succeeded}/{.status.failed}') ||
      stop_job "cannot read job/$job" 1
    [[ $status == 1/* || $status == */[1-9]* ]] && break
    ((SECONDS < deadline)) || stop_job "job/$job did not finish within ${timeout}s" 1
    pause
  done
  kb logs "job/$job" >&2 || log "(no logs from job/$job)"
  if [[ $status != 1/* ]]; then
    log "ERROR: job/$job failed (rolled back, the database is unchanged)"
    bring_back 1
  fi
fi
log "restore of $backup complete"
bring_back 0
