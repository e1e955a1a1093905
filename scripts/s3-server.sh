#!/usr/bin/env bash
# s3s-fs: a real S3-compatible server (files on disk, SigV4 signatures checked) for the S3 sink's
# integration tests (crates/delivery/tests/s3.rs). The tests start it themselves; this script
# only makes sure the binary exists.
#
#   scripts/s3-server.sh install     print the path of an s3s-fs binary, building it if needed
#   scripts/s3-server.sh start DIR PORT [ACCESS_KEY SECRET]
#                                    run it in the foreground on 127.0.0.1 (for manual checks)
#
# Or source it and call `s3s_fs_install`.
#
#   S3S_FS_BIN            use this binary when it is set and executable
#   AUDITRELAY_TOOLS_DIR  where tools are installed (default ~/.cache/auditrelay-tools);
#                         the binary goes to $AUDITRELAY_TOOLS_DIR/bin/s3s-fs
#
# 0.14.1 is the newest s3s-fs that builds with rustc 1.95; the build takes a few minutes once.
set -euo pipefail

S3S_FS_VERSION="0.14.1"

s3s_fs_install() {
    if [ -n "${S3S_FS_BIN:-}" ] && [ -x "$S3S_FS_BIN" ]; then
        printf '%s\n' "$S3S_FS_BIN"
        return 0
    fi
    local tools="${AUDITRELAY_TOOLS_DIR:-$HOME/.cache/auditrelay-tools}"
    local bin="$tools/bin/s3s-fs"
    if [ ! -x "$bin" ]; then
        mkdir -p "$tools"
        local log
        log="$(mktemp)"
        # Outside any shared target dir: cargo install builds in its own temporary one.
        if ! env -u CARGO_TARGET_DIR cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary \
            --locked --root "$tools" >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "s3s-fs $S3S_FS_VERSION could not be installed into $tools" >&2
            return 1
        fi
        rm -f "$log"
        if [ ! -x "$bin" ]; then
            echo "cargo install finished but $bin is missing" >&2
            return 1
        fi
    fi
    printf '%s\n' "$bin"
}

s3s_fs_start() {
    if [ "$#" -lt 2 ]; then
        echo "usage: $0 start DIR PORT [ACCESS_KEY SECRET]" >&2
        return 2
    fi
    local dir="$1" port="$2" access="${3:-AKIAAUDITRELAYTEST01}" secret="${4:-test-secret-access-key}"
    local bin
    bin="$(s3s_fs_install)"
    mkdir -p "$dir"
    exec "$bin" --host 127.0.0.1 --port "$port" --access-key "$access" --secret-key "$secret" "$dir"
}

# Run as a command (not when sourced).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        install) s3s_fs_install ;;
        start) shift; s3s_fs_start "$@" ;;
        *)
            echo "usage: $0 install | start DIR PORT [ACCESS_KEY SECRET]" >&2
            exit 2
            ;;
    esac
fi
