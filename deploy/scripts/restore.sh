#!/usr/bin/env bash
# Restores a backup made by backup.sh into a named database, all or nothing: the archive is read to the
# end before the database is touched, and the restore runs in one transaction (with --clean --if-exists,
# and dropping what was made after the backup), so a failure leaves the database exactly as it was.
#
# Usage: restore.sh [--dbname NAME] [--force] FILE|latest [-- extra pg_restore options, e.g. --no-owner]
#   FILE       a transportation_db_*.dump archive; `latest` = the newest one in BACKUP_DIR
#   --dbname   restore into database NAME on the same server instead of DATABASE_URL's database
#              (e.g. a scratch database to test a backup); it must exist
#   --force    restore an archive that lacks this project's tables (it would replace the database
#              with something that is not a transportation-api database)
# Environment:
#   DATABASE_URL          postgresql://user[:password]@host[:port]/database (required)
#   BACKUP_DIR            where `latest` is looked up (default /backup/transportation)
#   BACKUP_REQUIRED_TABLES  what makes an archive one of this project's (default:
#                         public.kysely_migration public.app_metadata)
#   RESTORE_LOCK_TIMEOUT  seconds to wait for another session's table lock before giving up and rolling
#                         back (default 60); stop the API first (restore-k8s.sh does) so nothing holds locks
# Stop writers before restoring: rows written after the backup are lost.
# SIGTERM or SIGINT stops it at any point (also as PID 1 of a Job's container, where a shell without a
# handler would ignore SIGTERM): the restore's session is ended on the server, so its transaction rolls
# back, and the exit status is 143 (130 for SIGINT) with the database unchanged.
set -euo pipefail

SCRIPT_NAME=restore
# shellcheck source=deploy/scripts/pg-common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/pg-common.sh"
readonly PREFIX=transportation_db_

explain() {
  local msg
  msg=$(sed -e 's/^pg_[a-z]*: error: //' -e 's/^pg_[a-z]*: //' -e 's/^psql: error: //' "$1" |
    tr '\n' ' ' | sed -e 's/  */ /g' -e 's/ $//')
  if [[ -n ${DATABASE_URL:-} ]]; then msg=${msg//"$DATABASE_URL"/<DATABASE_URL>}; fi
  if [[ -n ${SAFE_URL:-} ]]; then msg=${msg//"$SAFE_URL"/<DATABASE_URL>}; fi
  if [[ -n ${PGPASSWORD:-} ]]; then msg=${msg//"$PGPASSWORD"/<PGPASSWORD>}; fi
  printf '%s' "${msg:-no error output}"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# URL with its database replaced by NAME; query parameters are kept.
with_database() {
  local url=$1 name=$2 scheme rest query=""
  scheme=${url%%://*}
  rest=${url#*://}
  if [[ $rest == *\?* ]]; then
    query="?${rest#*\?}"
    rest=${rest%%\?*}
  fi
  printf '%s://%s/%s%s' "$scheme" "${rest%%/*}" "$name" "$query"
}

target_db=""
file=""
force=false
extra=()
while (($# > 0)); do
  case $1 in
    --dbname)
      (($# >= 2)) || die "--dbname needs a database name"
      target_db=$2
      shift 2
      ;;
    --dbname=*)
      target_db=${1#--dbname=}
      shift
      ;;
    --force) force=true && shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      extra=("$@")
      break
      ;;
    -*) die "unknown option '$1' (usage: restore.sh [--dbname NAME] [--force] FILE|latest [-- pg_restore options])" ;;
    *)
      [[ -z $file ]] || die "only one backup file can be restored at a time"
      file=$1
      shift
      ;;
  esac
done
[[ -n $file ]] || die "no backup file given (usage: restore.sh [--dbname NAME] [--force] FILE|latest)"
for option in "${extra[@]}"; do
  case $option in
    # The restore is one transaction of its own; these would commit part of it early.
    -1 | --single-transaction | -j* | --jobs*) die "pg_restore option $option cannot be used: the restore is already one transaction" ;;
  esac
done
if [[ -n $target_db && ! $target_db =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]]; then
  die "--dbname '$target_db' is not a plain database name"
fi

if [[ $file == latest ]]; then
  backup_dir=${BACKUP_DIR:-/backup/transportation}
  file=$(find "$backup_dir" -maxdepth 1 -type f -name "${PREFIX}*.dump" -printf '%T@ %p\n' 2>/dev/null |
    sort -n | tail -n 1 | cut -d' ' -f2-)
  [[ -n $file ]] || die "no backups in $backup_dir"
fi
[[ -f $file && -r $file ]] || die "no readable backup file at $file"

errfile=$(mktemp)
tocfile=$(mktemp)
rcfile=$(mktemp)
trap 'rm -f -- "$errfile" "$tocfile" "$rcfile" ${PASSFILE:+"$PASSFILE"}' EXIT

# Signals: every long step runs as a background child that the script `wait`s for, so a trapped signal
# is handled at once (bash runs traps only between foreground commands) and the child can be stopped.
restore_pid=""
app=""
dbname=""
on_signal() {
  local signal=$1 code=$2
  trap '' INT TERM
  if [[ -n $restore_pid ]]; then
    # End the restore's session on the server first: its transaction is rolled back there, whatever
    # the client would send next. Then stop the client.
    sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = '$app'" >/dev/null 2>&1 || true
    kill -TERM "$restore_pid" 2>/dev/null || true
    if wait "$restore_pid" 2>/dev/null && [[ ! -s $rcfile ]]; then
      log "interrupted by SIG$signal after the restore had committed: database $dbname restored"
      exit "$code"
    fi
  fi
  if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
  log "ERROR: interrupted by SIG$signal: the restore was stopped${dbname:+ and rolled back}; database ${dbname:-(not yet connected)} unchanged"
  exit "$code"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# A truncated or corrupt archive is refused here, before any connection to the database.
# The table of contents is read once and used again below.
interruptible pg_restore --list --file="$tocfile" "$file" 2>"$errfile" ||
  die "refusing to restore $file: not a pg_dump custom-format archive ($(explain "$errfile")); database untouched"
toc=$(<"$tocfile")
interruptible pg_restore --file=/dev/null "$file" 2>"$errfile" ||
  die "refusing to restore $file: the archive is incomplete or corrupt ($(explain "$errfile")); database untouched"
# --clean drops every table the archive has and the restore drops what it lacks: an archive of some other
# database would leave none of the project's data.
missing=$(missing_tables "$toc")
if [[ -n $missing ]]; then
  $force || die "refusing to restore $file: it is a dump of database '$(archive_database "$toc")' without $missing, not a transportation-api backup; database untouched (--force restores it anyway)"
  log "warning: $file has no $missing; restoring anyway (--force)"
fi

export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-30}
lock_timeout=${RESTORE_LOCK_TIMEOUT:-60}
[[ $lock_timeout =~ ^[0-9]+$ ]] || die "RESTORE_LOCK_TIMEOUT must be a number of seconds (got '$lock_timeout')"
target_database >/dev/null # DATABASE_URL must name the server and database: nothing is guessed
without_password "$DATABASE_URL"
conninfo=$SAFE_URL
if [[ -n $target_db ]]; then conninfo=$(with_database "$SAFE_URL" "$target_db"); fi
conn_args=("--dbname=$conninfo")
sql() { psql --no-psqlrc --no-align --tuples-only --no-password --quiet "${conn_args[@]}" --command="$1"; }

dbname=$(sql 'select current_database()' 2>"$errfile") ||
  die "cannot connect to the target database: $(explain "$errfile")"
others=$(sql "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()" \
  2>/dev/null) || others=0
if ((${others:-0} > 0)); then log "warning: $others other session(s) use $dbname; rows they write are lost"; fi

# The archive's own preamble sets lock_timeout = 0, so a session holding a lock on a table would make
# the restore wait forever. Watch instead: cancel (which rolls back) once it waited RESTORE_LOCK_TIMEOUT.
app="transportation-restore-$$-$(date +%s)"
blocked_seconds() {
  sql "select coalesce(max(extract(epoch from now() - l.waitstart))::int, 0) from pg_locks l
       join pg_stat_activity a on a.pid = l.pid where a.application_name = '$app' and not l.granted"
}
blockers() {
  sql "select string_agg(format('pid %s (%s%s, %s)', b.pid, b.usename, coalesce(' from ' || host(b.client_addr), ''),
         coalesce(nullif(b.application_name, ''), 'no application_name')), '; ')
       from pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) bp join pg_stat_activity b on b.pid = bp
       where a.application_name = '$app'"
}

# In a script, pg_restore commits large objects in transactions of its own; the app makes none.
if grep -qE '^[0-9]+; [0-9]+ [0-9]+ BLOB' <<<"$toc"; then
  die "refusing to restore $file: it holds large objects, which cannot be restored in one transaction; database untouched"
fi

# --clean drops only what the archive holds. Objects made after the backup (the schemas of feed
# versions imported since, tables of later migrations) would stay beside the restored migration
# history, and the next migrate or import would trip over them. They are dropped in the same
# transaction as the restore, so a failed restore keeps them too.
declare -A archived=()
while read -r name; do
  [[ -n $name ]] && archived[$name]=1
done < <(awk '
  ($4 == "TABLE" && $5 != "DATA") || $4 == "VIEW" || ($4 == "SEQUENCE" && $5 != "SET" && $5 != "OWNED") { print $5 "." $6 }
  $4 == "MATERIALIZED" && $5 == "VIEW" && $6 != "DATA" { print $6 "." $7 }' <<<"$toc")
current=$(sql "select 'schema ' || nspname from pg_namespace where nspname ~ '^gtfs_f[0-9]+$'
  union all
  select c.relkind::text || ' ' || n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
    and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('e', 'a', 'i'))" \
  2>"$errfile") || die "cannot list the objects of $dbname: $(explain "$errfile")"
drops=""
while read -r kind name; do
  [[ -n $kind ]] || continue
  if [[ ! $name =~ ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$ ]]; then
    log "warning: leaving $name in place (not in the backup, and not a plain name to drop)"
    continue
  fi
  case $kind in
    # Every feed schema goes, with whatever is in it: the archive recreates those it has. (--clean's own
    # DROP SCHEMA has no CASCADE, and fails on a table made in the schema after the backup.)
    schema) drops+="DROP SCHEMA IF EXISTS \"$name\" CASCADE;"$'\n' ;;
    r | p | v | m | S)
      [[ -n ${archived[$name]:-} ]] && continue
      case $kind in r | p) what=TABLE ;; v) what=VIEW ;; m) what="MATERIALIZED VIEW" ;; S) what=SEQUENCE ;; esac
      drops+="DROP $what IF EXISTS public.\"${name#public.}\" CASCADE;"$'\n'
      ;;
  esac
done <<<"$current"
if [[ -n $drops ]]; then log "dropping what the backup does not have: $(tr '\n' ' ' <<<"$drops")"; fi

log "restoring $(basename -- "$file") into database $dbname"
started=$SECONDS
# One transaction, committed only when the whole archive went through: if pg_restore stops early the
# COMMIT is never sent (its exit status goes to $rcfile instead), and psql's exit closes the session,
# which rolls everything back. psql is the background child itself, so a signal can stop it.
: >"$errfile"
PGAPPNAME=$app PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
  psql --no-psqlrc --quiet --no-password --set=ON_ERROR_STOP=1 "${conn_args[@]}" >/dev/null 2>>"$errfile" < <(
    printf 'BEGIN;\n%s' "$drops"
    if pg_restore --clean --if-exists --file=- "${extra[@]}" "$file" 2>>"$errfile"; then
      printf 'COMMIT;\n'
    else
      echo "$?" >"$rcfile"
    fi
  ) &
restore_pid=$!
lock_problem=""
while kill -0 "$restore_pid" 2>/dev/null; do
  waited=$(blocked_seconds 2>/dev/null || echo 0)
  if ((waited >= lock_timeout)); then
    lock_problem="waited ${waited}s for a lock held by: $(blockers 2>/dev/null || echo unknown sessions)"
    sql "select pg_cancel_backend(pid) from pg_stat_activity where application_name = '$app'" >/dev/null || true
    break
  fi
  interruptible sleep 1
done
rc=0
wait "$restore_pid" || rc=$?
restore_pid=""
if ((rc == 0)) && [[ -s $rcfile ]]; then rc=1; fi
if ((rc != 0)); then
  reason=${lock_problem:-$(explain "$errfile")}
  die "restore into $dbname failed and was rolled back, the database is unchanged: $reason"
fi
# Verify what was committed: the project's tables are there, with their migration history.
if migrations=$(sql "select count(*) from public.kysely_migration" 2>"$errfile"); then
  :
elif $force; then
  migrations="no"
else
  die "restored $dbname, but cannot read its migration history: $(explain "$errfile")"
fi
log "restored $(basename -- "$file") into database $dbname in $((SECONDS - started))s ($migrations migrations recorded)"
