#!/usr/bin/env bash
# ClickHouse for the archive tests (crates/server/tests/api/archive.rs). Debian ships 18.16.1:
# see ../shared/reference/test-services.md for what that version can and cannot do. The tests
# start private instances themselves (crates/testkit/src/clickhouse.rs); this script makes sure
# the server binary exists.
#
#   scripts/clickhouse-server.sh install
#       print the path of clickhouse-server, installing Debian's clickhouse-server and
#       clickhouse-client packages with apt-get when it is missing (needs root)
#   scripts/clickhouse-server.sh start DIR HTTP_PORT TCP_PORT INTERSERVER_PORT
#       run a private instance in the foreground on 127.0.0.1, data in DIR (for manual checks)
#
# Or source it and call `clickhouse_install`.
#
#   CLICKHOUSE_SERVER_BIN  use this binary when it is set and executable
set -euo pipefail

clickhouse_install() {
    if [ -n "${CLICKHOUSE_SERVER_BIN:-}" ] && [ -x "$CLICKHOUSE_SERVER_BIN" ]; then
        printf '%s\n' "$CLICKHOUSE_SERVER_BIN"
        return 0
    fi
    local bin=/usr/sbin/clickhouse-server
    if [ ! -x "$bin" ] || [ ! -f /etc/clickhouse-server/config.xml ]; then
        if ! command -v apt-get >/dev/null; then
            echo "clickhouse-server is missing and there is no apt-get to install it" >&2
            return 1
        fi
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        local log
        log="$(mktemp)"
        # RUNLEVEL=1 keeps the package's init script from starting a system-wide server: the
        # tests run their own instances on free ports.
        if ! { $sudo apt-get update -qq &&
            $sudo env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                clickhouse-server clickhouse-client; } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "could not install clickhouse-server with apt-get" >&2
            return 1
        fi
        rm -f "$log"
        if [ ! -x "$bin" ]; then
            echo "apt-get finished but $bin is missing" >&2
            return 1
        fi
    fi
    printf '%s\n' "$bin"
}

clickhouse_start() {
    if [ "$#" -lt 4 ]; then
        echo "usage: $0 start DIR HTTP_PORT TCP_PORT INTERSERVER_PORT" >&2
        return 2
    fi
    local dir="$1" http="$2" tcp="$3" interserver="$4"
    local bin
    bin="$(clickhouse_install)"
    mkdir -p "$dir"
    exec "$bin" --config-file=/etc/clickhouse-server/config.xml -- \
        --path="$dir/data/" --tmp_path="$dir/tmp/" --user_files_path="$dir/user_files/" \
        --format_schema_path="$dir/format_schemas/" --logger.log="$dir/server.log" \
        --logger.errorlog="$dir/server.err.log" --http_port="$http" --tcp_port="$tcp" \
        --interserver_http_port="$interserver"
}

# Run as a command (not when sourced).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        install) clickhouse_install ;;
        start) shift; clickhouse_start "$@" ;;
        *)
            echo "usage: $0 install | start DIR HTTP_PORT TCP_PORT INTERSERVER_PORT" >&2
            exit 2
            ;;
    esac
fi
