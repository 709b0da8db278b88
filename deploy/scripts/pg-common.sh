#!/usr/bin/env bash
# Shared by backup.sh and restore.sh (sourced; cron and the Kubernetes Jobs ship the three files together):
# the environment file read as data, the explicit target database, and what makes an archive a backup
# of this project rather than of some other database.
set -euo pipefail

# Tables an archive must hold to count as a backup of transportation-api: the migration history and the
# app's own metadata, which every installation has from its first migration on.
readonly DEFAULT_REQUIRED_TABLES="public.kysely_migration public.app_metadata"

# Long steps run as a background child that the script waits for: bash runs a signal trap only between
# foreground commands, so this is what lets SIGTERM act at once (and lets the trap stop the child).
child=""
interruptible() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# The log goes to the script's own stderr, kept as fd 3: a trap can run while a command's stderr is
# redirected to a file (`interruptible tool 2>file`), and its message must still reach the log.
exec 3>&2
log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SCRIPT_NAME" "$*" >&3; }
die() {
  log "ERROR: $*"
  exit 1
}

# Reads KEY=VALUE lines into the environment as plain data: nothing in the file is run or expanded (no
# `source`), so `&` in a URL's query string is just a character and a typo is an error, not a silent
# fallback to libpq's defaults. Blank lines and `#` comments are skipped, `export ` is allowed, and one
# pair of surrounding quotes is removed. Values from the file replace those in the environment.
read_env_file() {
  local file=$1 n=0 line key value mode
  shift
  local known=" $* "
  [[ -f $file && -r $file ]] || die "cannot read the environment file $file"
  mode=$(stat -c %a -- "$file")
  if ((8#$mode & 8#077)); then
    die "$file: mode $mode lets other users read the database password; chmod 600 $file"
  fi
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    if [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      key=${BASH_REMATCH[2]}
      value=${BASH_REMATCH[3]}
    else
      die "$file line $n: expected KEY=VALUE"
    fi
    [[ $known == *" $key "* ]] || die "$file line $n: unknown key $key (known:$(tr -s ' ' <<<"${known% }"))"
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    printf -v "$key" '%s' "$value"
    export "${key?}"
  done <"$file"
}

# The database DATABASE_URL names; fails unless it is a postgresql:// URL with a database in its path.
# Without one, libpq would pick its defaults (on the database host, the `postgres` database) and a
# backup of the wrong database would look like success.
target_database() {
  local url=${DATABASE_URL:-} path
  [[ -n $url ]] || die "DATABASE_URL is not set: name the database, e.g. postgresql://backup@db.internal:5432/transportation_db"
  [[ $url =~ ^postgres(ql)?://[^/?#]*(/([^?#]*))?([?#].*)?$ ]] ||
    die "DATABASE_URL is not a postgresql:// URL"
  path=${BASH_REMATCH[3]}
  [[ -n $path ]] || die "DATABASE_URL names no database (postgresql://…/<database>): libpq's default is not used"
  url_decode "$path"
}

# %XX sequences decoded (URL user, password and database parts).
url_decode() {
  local s=${1//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

# The required tables an archive's table of contents (pg_restore --list) lacks, space-separated.
missing_tables() {
  local toc=$1 table missing=""
  for table in ${BACKUP_REQUIRED_TABLES:-$DEFAULT_REQUIRED_TABLES}; do
    if ! grep -qE "^[0-9]+; [0-9]+ [0-9]+ TABLE ${table%%.*} ${table#*.} " <<<"$toc"; then missing+=" $table"; fi
  done
  printf '%s' "${missing# }"
}

# The database an archive was dumped from, as its table of contents records it.
archive_database() {
  sed -n 's/^;[[:space:]]*dbname: //p' <<<"$1" | head -n 1
}

# The child tools (pg_dump, pg_restore, psql) get the connection without its password, which any user
# would read in `ps`: the password moves from the URL (user info or `password=` parameter) to a
# private password file for libpq (PGPASSFILE, mode 600, removed by the caller's exit trap).
# Sets SAFE_URL (the URL without the password) and PASSFILE (empty when the URL had no password).
SAFE_URL=""
PASSFILE=""
without_password() {
  local url=$1 scheme authority rest userinfo query="" password="" pair escaped
  local -a pairs=() kept=()
  [[ $url =~ ^(postgres(ql)?)://([^/?#]*)(.*)$ ]] || die "DATABASE_URL is not a postgresql:// URL"
  scheme=${BASH_REMATCH[1]}
  authority=${BASH_REMATCH[3]}
  rest=${BASH_REMATCH[4]}
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    if [[ $userinfo == *:* ]]; then
      password=$(url_decode "${userinfo#*:}")
      authority="${userinfo%%:*}@${authority##*@}"
    fi
  fi
  if [[ $rest == *\?* ]]; then
    IFS='&' read -ra pairs <<<"${rest#*\?}"
    rest=${rest%%\?*}
    for pair in "${pairs[@]}"; do
      if [[ $pair == password=* ]]; then password=$(url_decode "${pair#password=}"); else kept+=("$pair"); fi
    done
    query=$(
      IFS='&'
      printf '%s' "${kept[*]}"
    )
  fi
  # shellcheck disable=SC2034 # read by the scripts that source this file
  SAFE_URL="$scheme://$authority$rest${query:+?$query}"
  if [[ -n $password ]]; then
    PASSFILE=$(umask 077 && mktemp "${TMPDIR:-/tmp}/.pgpass.XXXXXX") || die "cannot create a private password file"
    escaped=${password//\\/\\\\}
    printf '*:*:*:*:%s\n' "${escaped//:/\\:}" >"$PASSFILE"
    export PGPASSFILE=$PASSFILE
    unset PGPASSWORD # it would take precedence over the file (libpq reads it first)
  fi
}
