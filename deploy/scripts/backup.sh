#!/usr/bin/env bash
# Backs up the transportation database to BACKUP_DIR as a verified pg_dump custom-format archive
# (compressed) named transportation_db_YYYYmmdd_HHMMSS.dump (UTC), then deletes backups older than
# RETENTION_DAYS, never the newest one. Cron and the Kubernetes CronJob run this same file.
#
# Usage: backup.sh [--prune-only]
#   --prune-only  apply the retention rule without taking a backup
# Environment:
#   DATABASE_URL     connection URI; without it libpq's PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE apply
#   BACKUP_DIR       where backups go (default /backup/transportation)
#   RETENTION_DAYS   delete backups older than this many days (default 7)
# Cron, daily at 02:00 (see docs/operations.md for the environment file):
#   0 2 * * * /opt/transportation-api/deploy/scripts/backup.sh >>/var/log/transportation-backup.log 2>&1
# Exit status is non-zero, with a one-line reason, on any failure; nothing is pruned then.
set -euo pipefail

readonly PREFIX=transportation_db_

log() { printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# One line from a tool's stderr with a hint for the usual causes; secrets never reach the log.
explain() {
  local msg
  msg=$(sed -e 's/^pg_[a-z]*: error: //' -e 's/^pg_[a-z]*: //' "$1" | tr '\n' ' ' | sed -e 's/  */ /g' -e 's/ $//')
  if [[ -n ${DATABASE_URL:-} ]]; then msg=${msg//"$DATABASE_URL"/<DATABASE_URL>}; fi
  if [[ -n ${PGPASSWORD:-} ]]; then msg=${msg//"$PGPASSWORD"/<PGPASSWORD>}; fi
  case $msg in
    *"No space left on device"* | *"File too large"*) msg+=" [disk full: free space in BACKUP_DIR]" ;;
    *"password authentication failed"* | *"no password supplied"* | *"role "*"does not exist"*)
      msg+=" [bad credentials: check DATABASE_URL / PGPASSWORD]" ;;
    *"Connection refused"* | *"could not translate host name"* | *"timeout expired"* | *"No route to host"*)
      msg+=" [database server unreachable]" ;;
    *"database "*"does not exist"*) msg+=" [wrong database name]" ;;
  esac
  printf '%s' "${msg:-(no error output)}"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

prune_only=false
case "${1:-}" in
  "") ;;
  --prune-only) prune_only=true ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown argument '$1' (usage: backup.sh [--prune-only])" ;;
esac

backup_dir=${BACKUP_DIR:-/backup/transportation}
retention_days=${RETENTION_DAYS:-7}
if ! [[ $retention_days =~ ^[0-9]+$ ]] || ((10#$retention_days < 1)); then
  die "RETENTION_DAYS must be a whole number of days >= 1 (got '$retention_days')"
fi
retention_days=$((10#$retention_days))

# Without a timeout an unreachable server can hang a nightly run for many minutes.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-30}
conn_args=()
if [[ -n ${DATABASE_URL:-} ]]; then conn_args=("--dbname=$DATABASE_URL"); fi

mkdir -p -- "$backup_dir" 2>/dev/null || die "cannot create BACKUP_DIR $backup_dir"
[[ -d $backup_dir && -w $backup_dir ]] || die "BACKUP_DIR $backup_dir is not a writable directory"

# One run at a time per directory (cron may overlap a slow run; the CronJob has concurrencyPolicy: Forbid).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$backup_dir/.backup.lock" || die "cannot create the lock file in $backup_dir"
  flock -n 9 || die "another backup is running in $backup_dir"
fi

errfile=$(mktemp)
partial=""
cleanup() {
  rm -f -- "$errfile"
  if [[ -n $partial ]]; then rm -f -- "$partial"; fi
}
trap cleanup EXIT

take_backup() {
  local stamp final list started size entries rc=0
  stamp=$(date -u +%Y%m%d_%H%M%S)
  final="$backup_dir/${PREFIX}${stamp}.dump"
  # Hidden and without the .dump suffix, so retention and restore never pick up an unfinished file.
  partial="$backup_dir/.${PREFIX}${stamp}.dump.partial"
  list="$partial.list"
  [[ ! -e $final ]] || die "$final already exists (two backups within one second?)"
  started=$SECONDS

  pg_dump --format=custom --compress=6 --no-password --file="$partial" "${conn_args[@]}" 2>"$errfile" || rc=$?
  if ((rc == 128 + 25)); then
    die "pg_dump failed: file size limit exceeded (SIGXFSZ) [disk full: free space in BACKUP_DIR or raise ulimit -f]"
  elif ((rc > 128)); then
    die "pg_dump failed: killed by signal $((rc - 128)) $(explain "$errfile")"
  elif ((rc != 0)); then
    die "pg_dump failed: $(explain "$errfile")"
  fi

  # The table of contents must list, and every data block must decompress to the end of the file.
  pg_restore --list --file="$list" "$partial" 2>"$errfile" ||
    die "verification failed, archive has no readable table of contents: $(explain "$errfile")"
  entries=$(grep -cv '^;' "$list" || true)
  rm -f -- "$list"
  pg_restore --file=/dev/null "$partial" 2>"$errfile" ||
    die "verification failed, archive is unreadable: $(explain "$errfile")"

  sync -- "$partial" 2>/dev/null || true
  mv -- "$partial" "$final" || die "cannot rename the finished backup to $final"
  partial=""
  size=$(stat -c %s -- "$final")
  log "wrote $final ($size bytes, $entries archive entries) in $((SECONDS - started))s"
}

prune() {
  local newest file removed=0 kept
  newest=$(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" -printf '%T@ %p\n' |
    sort -n | tail -n 1 | cut -d' ' -f2-)
  if [[ -z $newest ]]; then
    log "no backups in $backup_dir, nothing to prune"
    return
  fi
  while IFS= read -r -d '' file; do
    [[ $file == "$newest" ]] && continue
    rm -f -- "$file" || die "cannot delete $file"
    log "deleted $(basename -- "$file") (older than $retention_days days)"
    removed=$((removed + 1))
  done < <(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" -mmin "+$((retention_days * 1440))" -print0)
  # Left behind by runs that were killed mid-dump.
  find "$backup_dir" -maxdepth 1 -type f -name ".${PREFIX}*.partial*" -mmin +1440 -delete 2>/dev/null || true
  kept=$(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" | wc -l)
  log "retention ${retention_days}d: deleted $removed, kept $kept (newest $(basename -- "$newest"))"
}

if ! $prune_only; then take_backup; fi
prune
