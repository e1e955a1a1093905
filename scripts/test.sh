#!/usr/bin/env bash
# The whole test suite: formatting, unit tests, and the integration suite on the embedded store
# and on a real PostgreSQL, with real s3s-fs and ClickHouse servers. Starts (or installs) what it
# needs; fails (never skips) when a service cannot run.
#
#   AUDITRELAY_TEST_POSTGRES_URL  server and admin database for fresh test databases
#                                 (default postgres://postgres@127.0.0.1:5432/test)
#   AUDITRELAY_TOOLS_DIR          where test tools (s3s-fs, cargo-fuzz) are installed once
#                                 (default ~/.cache/auditrelay-tools)
#   AUDITRELAY_ARTIFACTS_DIR      where the web UI tests save screenshots
#                                 (default target/test-artifacts/ui)
#   FUZZ_SECONDS                  seconds per fuzz target at the end (default 20; 0 skips)
set -euo pipefail
cd "$(dirname "$0")/.."

export AUDITRELAY_TEST_POSTGRES_URL="${AUDITRELAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

log() { printf '== %s\n' "$*" >&2; }

postgres_ready() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -d "$AUDITRELAY_TEST_POSTGRES_URL"
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

ensure_postgres() {
    postgres_ready && return 0
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        log "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
        for _ in $(seq 1 30); do postgres_ready && return 0; sleep 1; done
    fi
    echo "PostgreSQL is not reachable at $AUDITRELAY_TEST_POSTGRES_URL; the PostgreSQL suite cannot run" >&2
    exit 1
}

# Test databases are named ar_test_<unix seconds>_<random>; drop the ones earlier runs left behind
# (older than three hours), never those of a run still going on the same server.
drop_old_test_databases() {
    command -v psql >/dev/null || return 0
    local cutoff=$(($(date +%s) - 3 * 3600))
    psql -qAt -d "$AUDITRELAY_TEST_POSTGRES_URL" -c "SELECT datname FROM pg_database WHERE datname LIKE 'ar\_test\_%'" 2>/dev/null |
        while read -r db; do
            local stamp="${db#ar_test_}"
            stamp="${stamp%%_*}"
            if [[ "$stamp" =~ ^[0-9]+$ ]] && [ "$stamp" -gt "$cutoff" ]; then continue; fi
            psql -q -d "$AUDITRELAY_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
        done
}

# Debian packages the suites need: Chromium and chromedriver (web UI tests) and ClickHouse
# (archive tests). One apt-get run for whatever is missing; RUNLEVEL=1 keeps the ClickHouse
# package from starting a system-wide server (the tests start their own on free ports).
install_debian_packages() {
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    [ -x /usr/sbin/clickhouse-server ] && [ -f /etc/clickhouse-server/config.xml ] ||
        missing+=(clickhouse-server clickhouse-client)
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq &&
        $sudo env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
}

ensure_browser() {
    AUDITRELAY_CHROMIUM="$(command -v chromium)" && AUDITRELAY_CHROMEDRIVER="$(command -v chromedriver)" || {
        echo "chromium and chromedriver are needed for the web UI tests and could not be installed" >&2
        exit 1
    }
    export AUDITRELAY_CHROMIUM AUDITRELAY_CHROMEDRIVER
}

log "checking formatting"
cargo fmt --all -- --check

log "checking that ARCHITECTURE.md names only paths that exist"
python3 scripts/check-architecture.py

log "checking that no crate has a module-level import cycle"
python3 scripts/module-cycles.py

log "linting (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

ensure_postgres
drop_old_test_databases

# apt-get downloads while cargo builds s3s-fs; the two meet below.
packages_log="$(mktemp)"
install_debian_packages >"$packages_log" 2>&1 &
packages_pid=$!

log "making sure an S3-compatible server (s3s-fs) is installed"
AUDITRELAY_S3S_FS_BIN="$(bash scripts/s3-server.sh install)"
export AUDITRELAY_S3S_FS_BIN

log "waiting for the Debian packages (Chromium, ClickHouse)"
if ! wait "$packages_pid"; then
    cat "$packages_log" >&2
    echo "could not install the Debian packages the UI and archive tests need" >&2
    exit 1
fi
cat "$packages_log" >&2
rm -f "$packages_log"
ensure_browser

log "making sure ClickHouse (Debian's clickhouse-server) is installed"
AUDITRELAY_TEST_CLICKHOUSE_BIN="$(bash scripts/clickhouse-server.sh install)"
export AUDITRELAY_TEST_CLICKHOUSE_BIN

# Made once before the tests, so concurrent tests never race to create it.
log "making sure the Python test virtualenv (standardwebhooks, cryptography) exists"
bash scripts/standardwebhooks-venv.sh >/dev/null

log "running the test suite (SQLite and PostgreSQL)"
output="$(mktemp)"
trap 'rm -f "$output"' EXIT
set +e
cargo test --workspace --locked -- --include-ignored 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
set -e
drop_old_test_databases

# python-gitlab 8.x, unchanged, against the real server (installed into a virtualenv once).
log "driving the server with python-gitlab"
if ! bash scripts/python-gitlab.sh; then
    echo "python-gitlab could not page through the server" >&2
    status=1
fi

# Bounded fuzzing of the parsers (FUZZ_SECONDS per target; 0 skips it).
log "fuzzing each target for ${FUZZ_SECONDS:-20} s"
if ! bash scripts/fuzz.sh; then
    echo "fuzzing found a crash" >&2
    status=1
fi

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$output"
exit "$status"
