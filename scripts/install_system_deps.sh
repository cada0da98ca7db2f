#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian's packages, when missing:
#   chromium    the browser the Playwright tests drive (/usr/bin/chromium)
#   postgresql  the server the suite runs against a second time (/usr/lib/postgresql/*/bin)
#   nodejs npm  build the browser assets (bpmn-js bundled by esbuild; `make assets`)
#   redis       the Celery broker the multi-node test starts on loopback (redis-server)
# With arguments, only those: `install_system_deps.sh node` (what `make run` needs).
# Idempotent: when everything is present it touches nothing and never calls apt.
set -euo pipefail

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=(chromium postgresql node redis)
wants() { [[ " ${wanted[*]} " == *" $1 "* ]]; }

log() { echo "install_system_deps: $*"; }

have_chromium() { [[ -x /usr/bin/chromium ]]; }

have_postgres_server() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            return 0
        fi
    done
    return 1
}

have_redis() { command -v redis-server >/dev/null || [[ -x /usr/bin/redis-server ]]; }

# Node.js 18 or newer (esbuild's minimum) with npm; Debian 12 ships 18, Debian 13 ships 20.
have_node() {
    command -v node >/dev/null && command -v npm >/dev/null \
        && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
}

missing=()
if wants chromium; then
    if have_chromium; then
        log "chromium: present (/usr/bin/chromium)"
    else
        log "chromium: missing"
        missing+=(chromium)
    fi
fi
if wants postgresql; then
    if have_postgres_server; then
        log "postgresql: present ($(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1))"
    else
        log "postgresql: missing"
        missing+=(postgresql)
    fi
fi
if wants node; then
    if have_node; then
        log "node: present ($(command -v node) $(node --version), npm $(npm --version 2>/dev/null))"
    elif command -v node >/dev/null && command -v npm >/dev/null; then
        log "ERROR: node $(node --version) is too old (18 or newer needed); upgrade it by hand" >&2
        exit 1
    else
        log "node: missing"
        missing+=(nodejs npm)
    fi
fi

if wants redis; then
    if have_redis; then
        log "redis: present ($(redis-server --version | cut -d' ' -f1-3))"
    else
        log "redis: missing"
        missing+=(redis-server)
    fi
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    log "all system dependencies present; nothing to install"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        log "ERROR: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi
command -v apt-get >/dev/null || { log "ERROR: apt-get not found; install ${missing[*]} by hand" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive

# The tests run their own throw-away cluster (scripts/pg_cluster.sh); don't let the package
# create and start a system-wide "main" cluster as well.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    conf_d=/etc/postgresql-common/createcluster.d
    if [[ ! -e "$conf_d/mesa-no-main-cluster.conf" ]]; then
        log "asking the postgresql package not to create a main cluster ($conf_d)"
        "${SUDO[@]}" mkdir -p "$conf_d"
        echo "create_main_cluster = false" | "${SUDO[@]}" tee "$conf_d/mesa-no-main-cluster.conf" >/dev/null
    fi
fi

log "running apt-get update"
"${SUDO[@]}" apt-get update -q

log "installing: ${missing[*]}"
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    log "apt-get install failed once; updating and retrying"
    sleep 5
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if wants chromium; then
    have_chromium || { log "ERROR: /usr/bin/chromium still missing after install" >&2; exit 1; }
fi
if wants postgresql; then
    have_postgres_server || { log "ERROR: PostgreSQL server binaries still missing after install" >&2; exit 1; }
fi
if wants node; then
    have_node || { log "ERROR: node 18+ and npm still missing after install" >&2; exit 1; }
fi
if wants redis; then
    have_redis || { log "ERROR: redis-server still missing after install" >&2; exit 1; }
fi
log "done"
