#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the test suite.
#
#   scripts/pg_cluster.sh start DIR PORT   create a cluster in DIR (empty or missing), start it
#                                          on 127.0.0.1:PORT and create the database mesa_test
#   scripts/pg_cluster.sh stop DIR         stop that cluster and remove DIR
#
# PostgreSQL refuses to run as root, so when run as root the server runs as the `postgres`
# user (created if missing); DIR should then be somewhere that user can reach, e.g. under /tmp
# (`mktemp -d /tmp/mesa-pg.XXXXXX`). As any other user, the server runs as that user.
# The server binaries are taken from the newest /usr/lib/postgresql/*/bin (PG_BIN overrides).
# Durability is switched off (fsync, synchronous_commit, full_page_writes): test data only.
set -euo pipefail

PG_USER=postgres
DB_NAME=mesa_test
MARKER=.mesa-test-cluster

log() { echo "pg_cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

find_pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        [[ -x "$PG_BIN/initdb" ]] || die "PG_BIN=$PG_BIN has no initdb"
        echo "$PG_BIN"
        return
    fi
    local dir best=""
    # Newest major version that has the server binaries (not only the client).
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            best="$dir"
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V)
    if [[ -z "$best" ]] && command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        best="$(dirname "$(command -v pg_ctl)")"
    fi
    [[ -n "$best" ]] || die "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin);" \
        "install it with: bash scripts/install_system_deps.sh"
    echo "$best"
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as the user the server runs as.
as_pg() {
    if is_root; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

ensure_pg_user() {
    is_root || return 0
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
        log "creating system user $PG_USER"
        useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
            --shell /usr/sbin/nologin "$PG_USER"
    fi
}

cmd_start() {
    local dir="$1" port="$2"
    [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "bad port: $port"
    [[ "$dir" == /* ]] || dir="$(pwd)/$dir"

    local bin
    bin="$(find_pg_bin)"
    ensure_pg_user

    mkdir -p "$dir"
    if [[ -n "$(ls -A "$dir")" ]]; then
        die "$dir is not empty; give an empty or missing directory"
    fi
    if is_root; then
        chown "$PG_USER:" "$dir"
    fi
    chmod 700 "$dir"
    if ! as_pg test -w "$dir"; then
        die "user $PG_USER cannot write $dir (is a parent directory closed to it? use /tmp)"
    fi

    # UTF-8 encoding always (a C/SQL_ASCII cluster makes psycopg return bytes); C.UTF-8 when the
    # system has that locale, else plain C.
    local locale=C
    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then
        locale=C.UTF-8
    fi

    log "initdb in $dir with $bin (user $(is_root && echo "$PG_USER" || id -un), locale $locale)"
    if ! as_pg "$bin/initdb" -D "$dir" -A trust -U "$PG_USER" -E UTF8 --locale="$locale" \
        --no-sync >"$dir.initdb.log" 2>&1; then
        cat "$dir.initdb.log" >&2
        rm -f "$dir.initdb.log"
        die "initdb failed"
    fi
    rm -f "$dir.initdb.log"
    # Only a directory carrying this marker is ever removed by `stop`.
    as_pg touch "$dir/$MARKER"

    log "starting on 127.0.0.1:$port"
    if ! as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -t 60 \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        log "server log:"
        tail -n 40 "$dir/log" >&2 || true
        die "pg_ctl start failed"
    fi

    if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$DB_NAME"; then
        tail -n 20 "$dir/log" >&2 || true
        die "createdb $DB_NAME failed"
    fi
    log "ready: postgresql+psycopg://$PG_USER@127.0.0.1:$port/$DB_NAME" \
        "($("$bin/postgres" --version))"
}

cmd_stop() {
    local dir="$1"
    [[ "$dir" == /* ]] || dir="$(pwd)/$dir"
    if [[ ! -e "$dir" ]]; then
        log "$dir does not exist; nothing to stop"
        return 0
    fi
    [[ -d "$dir" ]] || die "$dir is not a directory"
    if [[ ! -e "$dir/$MARKER" && ! -e "$dir/PG_VERSION" ]]; then
        if [[ -z "$(ls -A "$dir")" ]]; then
            rmdir "$dir"
            return 0
        fi
        die "$dir is not a test cluster made by this script; not touching it"
    fi

    if [[ -e "$dir/postmaster.pid" ]]; then
        local bin
        bin="$(find_pg_bin)"
        log "stopping the cluster in $dir"
        if ! as_pg "$bin/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null 2>&1; then
            log "fast shutdown failed; trying immediate"
            as_pg "$bin/pg_ctl" -D "$dir" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        if [[ -e "$dir/postmaster.pid" ]]; then
            # Last resort: the server's own pid from its pid file.
            local pid
            pid="$(head -n 1 "$dir/postmaster.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                log "killing postmaster $pid"
                kill -KILL "$pid" 2>/dev/null || true
                sleep 1
            fi
        fi
    fi
    rm -rf -- "$dir"
    log "removed $dir"
}

case "${1:-}" in
    start)
        [[ $# -eq 3 ]] || usage
        cmd_start "$2" "$3"
        ;;
    stop)
        [[ $# -eq 2 ]] || usage
        cmd_stop "$2"
        ;;
    *) usage ;;
esac
