#!/usr/bin/env bash
# Backs up the transportation database to BACKUP_DIR as a verified pg_dump custom-format archive
# (compressed) named transportation_db_YYYYmmdd_HHMMSS.dump (UTC), then deletes backups older than
# RETENTION_DAYS, never the newest good one. Cron and the Kubernetes CronJob run this same file.
#
# Usage: backup.sh [--env-file FILE] [--prune-only | --check]
#   --env-file FILE  read the variables below from FILE (KEY=VALUE lines, read as data, never run);
#                    values there replace the environment's
#   --prune-only     apply the retention rule without taking a backup
#   --check          exit 1, with the reason, unless the last run succeeded and the last good backup
#                    is younger than BACKUP_MAX_AGE_HOURS (for monitoring: a backup that did not run)
# Environment:
#   DATABASE_URL            postgresql://user[:password]@host[:port]/database (required: the database
#                           is never guessed)
#   BACKUP_DIR              where backups go (default /backup/transportation)
#   RETENTION_DAYS          delete backups older than this many days (default 7)
#   PGCONNECT_TIMEOUT       seconds before an unreachable server counts as a failure (default 30)
#   BACKUP_REQUIRED_TABLES  tables an archive must hold to be kept as a backup of this project
#                           (default: public.kysely_migration public.app_metadata)
#   BACKUP_STATUS_FILE      outcome of every run in Prometheus text format, e.g. for node_exporter's
#                           textfile collector (default $BACKUP_DIR/transportation_backup.prom):
#                           transportation_backup_last_success_timestamp_seconds and friends
#   BACKUP_MAX_AGE_HOURS    --check fails when the last good backup is older (default 26)
# Cron, daily at 02:00: see docs/operations.md ("On a server with cron").
# Exit status is non-zero, with a one-line reason, on any failure; nothing is pruned then.
set -euo pipefail

SCRIPT_NAME=backup
# shellcheck source=deploy/scripts/pg-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/pg-common.sh"
readonly ENV_KEYS="DATABASE_URL BACKUP_DIR RETENTION_DAYS PGCONNECT_TIMEOUT BACKUP_REQUIRED_TABLES BACKUP_STATUS_FILE BACKUP_MAX_AGE_HOURS"
readonly METRIC=transportation_backup
readonly PREFIX=transportation_db_

# One line from a tool's stderr with a hint for the usual causes; secrets never reach the log.
explain() {
  local msg
  msg=$(sed -e 's/^pg_[a-z]*: error: //' -e 's/^pg_[a-z]*: //' "$1" | tr '\n' ' ' | sed -e 's/  */ /g' -e 's/ $//')
  if [[ -n ${DATABASE_URL:-} ]]; then msg=${msg//"$DATABASE_URL"/<DATABASE_URL>}; fi
  if [[ -n ${SAFE_URL:-} ]]; then msg=${msg//"$SAFE_URL"/<DATABASE_URL>}; fi
  if [[ -n ${PGPASSWORD:-} ]]; then msg=${msg//"$PGPASSWORD"/<PGPASSWORD>}; fi
  case $msg in
    *"No space left on device"* | *"File too large"*) msg+=" [disk full: free space in BACKUP_DIR]" ;;
    *"password authentication failed"* | *"no password supplied"* | *"role "*"does not exist"*)
      msg+=" [bad credentials: check DATABASE_URL / PGPASSWORD]" ;;
    *"Connection refused"* | *"could not translate host name"* | *"timeout expired"* | *"No route to host"*)
      msg+=" [database server unreachable]" ;;
    *"database "*"does not exist"*) msg+=" [wrong database name]" ;;
    *"server version mismatch"*) msg+=" [version mismatch: use a pg_dump (image) of the server's major version]" ;;
  esac
  printf '%s' "${msg:-(no error output)}"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

prune_only=false
check=false
env_file=""
while (($# > 0)); do
  case $1 in
    --prune-only) prune_only=true && shift ;;
    --check) check=true && shift ;;
    --env-file)
      (($# >= 2)) || die "--env-file needs a file"
      env_file=$2
      shift 2
      ;;
    --env-file=*) env_file=${1#--env-file=} && shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (usage: backup.sh [--env-file FILE] [--prune-only | --check])" ;;
  esac
done
# shellcheck disable=SC2086 # the key list is split on purpose
if [[ -n $env_file ]]; then read_env_file "$env_file" $ENV_KEYS; fi

backup_dir=${BACKUP_DIR:-/backup/transportation}
status_file=${BACKUP_STATUS_FILE:-$backup_dir/$METRIC.prom}

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# A value from the status file (0 when absent).
status_value() { awk -v name="${METRIC}_$1" '$1 == name { v = $2 } END { print v + 0 }' "$status_file" 2>/dev/null || echo 0; }

# The outcome of this run for monitoring, written whatever happened (a failed run keeps the time of
# the last good backup). Replaced atomically: a scraper never reads half a file.
write_status() {
  local ok=$1 now success size tmp
  now=$(date +%s)
  success=$(status_value last_success_timestamp_seconds)
  size=$(status_value last_size_bytes)
  if ((ok)); then
    success=$now
    size=$written_size
  fi
  tmp=$(mktemp "$(dirname -- "$status_file")/.$METRIC.prom.XXXXXX" 2>/dev/null) || {
    log "warning: cannot write the status file $status_file"
    return 0
  }
  cat >"$tmp" <<EOF
# HELP ${METRIC}_last_success_timestamp_seconds When the last verified backup was written (Unix time; 0: never).
# TYPE ${METRIC}_last_success_timestamp_seconds gauge
${METRIC}_last_success_timestamp_seconds $success
# HELP ${METRIC}_last_attempt_timestamp_seconds When backup.sh last ran (Unix time).
# TYPE ${METRIC}_last_attempt_timestamp_seconds gauge
${METRIC}_last_attempt_timestamp_seconds $now
# HELP ${METRIC}_last_attempt_success 1 if the last run wrote a verified backup, 0 if it failed.
# TYPE ${METRIC}_last_attempt_success gauge
${METRIC}_last_attempt_success $ok
# HELP ${METRIC}_last_size_bytes Size of the last verified backup.
# TYPE ${METRIC}_last_size_bytes gauge
${METRIC}_last_size_bytes $size
EOF
  if ! chmod 644 "$tmp" || ! mv -f -- "$tmp" "$status_file"; then
    log "warning: cannot write the status file $status_file"
  fi
}

# --check: the last run succeeded and its backup is recent enough. Also catches the runs that never
# happened (cron not running, a crontab line that fails before the script starts): nothing updates
# the status, so it grows old.
check_status() {
  local max=${BACKUP_MAX_AGE_HOURS:-26} now success attempt ok hours
  if ! [[ $max =~ ^[0-9]+$ ]] || ((10#$max < 1)); then
    die "BACKUP_MAX_AGE_HOURS must be a whole number of hours >= 1 (got '$max')"
  fi
  [[ -r $status_file ]] ||
    die "no backup status at $status_file: backup.sh has not run with this BACKUP_DIR (or BACKUP_STATUS_FILE)"
  now=$(date +%s)
  success=$(status_value last_success_timestamp_seconds)
  attempt=$(status_value last_attempt_timestamp_seconds)
  ok=$(status_value last_attempt_success)
  local last="never"
  if ((success > 0)); then last="at $(iso "$success")"; fi
  ((ok == 1)) || die "the last backup run, at $(iso "$attempt"), failed (see its log); last good backup: $last"
  hours=$(((now - success) / 3600))
  ((now - success <= 10#$max * 3600)) ||
    die "no backup for ${hours} h (last good backup $last, limit ${max} h): is the job still scheduled and running?"
  printf 'backup ok: last good backup %s (%s h ago, %s bytes)\n' "$last" "$hours" "$(status_value last_size_bytes)"
}
if $check; then
  check_status
  exit 0
fi

errfile=""
partial=""
written_size=0
# Every backup run leaves its outcome in the status file, also one that fails before it starts dumping.
record_status=$([[ $prune_only == false ]] && echo true || echo false)
cleanup() {
  local rc=$?
  if [[ -n $errfile ]]; then rm -f -- "$errfile"; fi
  if [[ -n $PASSFILE ]]; then rm -f -- "$PASSFILE"; fi
  if [[ -n $partial ]]; then rm -f -- "$partial"; fi
  if $record_status; then write_status "$((rc == 0 ? 1 : 0))"; fi
}
trap cleanup EXIT
# SIGTERM (a Job's deadline, `docker stop`, a person) stops the dump at once: no half-written file stays,
# and the run counts as failed in the status file.
on_signal() {
  trap '' INT TERM
  if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
  log "ERROR: interrupted by SIG$1: no backup written"
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
retention_days=${RETENTION_DAYS:-7}
if ! [[ $retention_days =~ ^[0-9]+$ ]] || ((10#$retention_days < 1)); then
  die "RETENTION_DAYS must be a whole number of days >= 1 (got '$retention_days')"
fi
retention_days=$((10#$retention_days))

# Without a timeout an unreachable server can hang a nightly run for many minutes.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-30}
if ! $prune_only; then
  database=$(target_database)
  without_password "$DATABASE_URL"
  conn_args=("--dbname=$SAFE_URL")
fi

mkdir -p -- "$backup_dir" 2>/dev/null || die "cannot create BACKUP_DIR $backup_dir"
[[ -d $backup_dir && -w $backup_dir ]] || die "BACKUP_DIR $backup_dir is not a writable directory"

# One run at a time per directory (cron may overlap a slow run; the CronJob has concurrencyPolicy: Forbid).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$backup_dir/.backup.lock" || die "cannot create the lock file in $backup_dir"
  flock -n 9 || die "another backup is running in $backup_dir"
fi

errfile=$(mktemp)

# pg_dump refuses a server of a newer major version, so a server upgrade makes every night fail until the
# image (or the installed client) follows. Say so in those words, before dumping. When the server cannot
# be asked, pg_dump's own connection error below tells why.
check_versions() {
  local server client
  server=$(psql --no-psqlrc --no-align --tuples-only --no-password --quiet "${conn_args[@]}" \
    --command='show server_version_num' 2>/dev/null) || return 0
  client=$(pg_dump --version | sed -n 's/^pg_dump (PostgreSQL) \([0-9]*\).*/\1/p')
  [[ $server =~ ^[0-9]+$ && $client =~ ^[0-9]+$ ]] || return 0
  if ((server / 10000 > client)); then
    die "the database server runs PostgreSQL $((server / 10000)), this pg_dump is $client [version mismatch:" \
      "use pg_dump $((server / 10000)) or newer, e.g. the postgres:$((server / 10000)) image of the backup CronJob]"
  fi
}

take_backup() {
  local stamp final list started size entries toc dumped missing rc=0
  stamp=$(date -u +%Y%m%d_%H%M%S)
  final="$backup_dir/${PREFIX}${stamp}.dump"
  # Hidden and without the .dump suffix, so retention and restore never pick up an unfinished file.
  partial="$backup_dir/.${PREFIX}${stamp}.dump.partial"
  list="$partial.list"
  [[ ! -e $final ]] || die "$final already exists (two backups within one second?)"
  check_versions
  started=$SECONDS

  interruptible pg_dump --format=custom --compress=6 --no-password --file="$partial" "${conn_args[@]}" 2>"$errfile" || rc=$?
  if ((rc == 128 + 25)); then
    die "pg_dump failed: file size limit exceeded (SIGXFSZ) [disk full: free space in BACKUP_DIR or raise ulimit -f]"
  elif ((rc > 128)); then
    die "pg_dump failed: killed by signal $((rc - 128)) $(explain "$errfile")"
  elif ((rc != 0)); then
    die "pg_dump failed: $(explain "$errfile")"
  fi

  # The table of contents must list, and every data block must decompress to the end of the file.
  interruptible pg_restore --list --file="$list" "$partial" 2>"$errfile" ||
    die "verification failed, archive has no readable table of contents: $(explain "$errfile")"
  toc=$(<"$list")
  rm -f -- "$list"
  entries=$(grep -cv '^;' <<<"$toc" || true)
  interruptible pg_restore --file=/dev/null "$partial" 2>"$errfile" ||
    die "verification failed, archive is unreadable: $(explain "$errfile")"
  # A dump of the wrong database must not count as a backup (and must not let retention delete the
  # real ones): it must come from the database DATABASE_URL names and hold this project's tables.
  dumped=$(archive_database "$toc")
  [[ $dumped == "$database" ]] ||
    die "verification failed: the archive is of database '$dumped', not '$database'; not kept, nothing pruned"
  missing=$(missing_tables "$toc")
  [[ -z $missing ]] ||
    die "verification failed: database $database has no $missing ($entries archive entries): not a transportation-api database? not kept, nothing pruned"

  sync -- "$partial" 2>/dev/null || true
  mv -- "$partial" "$final" || die "cannot rename the finished backup to $final"
  partial=""
  size=$(stat -c %s -- "$final")
  written_size=$size
  log "wrote $final ($size bytes, $entries archive entries) in $((SECONDS - started))s"
}

# The newest backup whose table of contents holds the project's tables: retention never deletes it,
# however old, so a run of bad or missing nights never leaves the directory without a usable backup.
newest_good() {
  local file toc
  while IFS= read -r file; do
    toc=$(pg_restore --list -- "$file" 2>/dev/null) || continue
    if [[ -z $(missing_tables "$toc") ]]; then
      printf '%s' "$file"
      return
    fi
  done < <(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
}

prune() {
  local keep file removed=0 kept
  keep=$(newest_good)
  if [[ -z $keep ]]; then
    log "no usable backup in $backup_dir (none holds $(tr -s ' ' <<<"${BACKUP_REQUIRED_TABLES:-$DEFAULT_REQUIRED_TABLES}")), nothing pruned"
    return
  fi
  while IFS= read -r -d '' file; do
    [[ $file == "$keep" ]] && continue
    rm -f -- "$file" || die "cannot delete $file"
    log "deleted $(basename -- "$file") (older than $retention_days days)"
    removed=$((removed + 1))
  done < <(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" -mmin "+$((retention_days * 1440))" -print0)
  # Left behind by runs that were killed mid-dump.
  find "$backup_dir" -maxdepth 1 -type f -name ".${PREFIX}*.partial*" -mmin +1440 -delete 2>/dev/null || true
  kept=$(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" | wc -l)
  log "retention ${retention_days}d: deleted $removed, kept $kept (newest usable $(basename -- "$keep"))"
}

if ! $prune_only; then take_backup; fi
prune
