#!/usr/bin/env bash
# The LocalStack acceptance lane: installs LocalStack's community emulator, runs a command
# against it, and stops it again. `make test-localstack` drives it.
#
#   lane.sh install VENV CONSTRAINTS   localstack-core into the virtualenv VENV
#   lane.sh run VENV WORKDIR -- CMD…   starts LocalStack on 127.0.0.1 (a free port, state
#                                      and log in WORKDIR), runs CMD with
#                                      QUEUESCALE_ACC_LOCALSTACK=http://127.0.0.1:PORT,
#                                      stops LocalStack, and exits with CMD's status
#
# localstack-core 2026.3.0 is the last release that carries the emulator; it needs
# Python >= 3.13 (its SQS and CloudWatch code imports `warnings.deprecated`). The Python is
# $LOCALSTACK_PYTHON, else python3.14 or python3.13 on PATH, else the newest 3.13+ under
# pyenv ($PYENV_ROOT, default ~/.pyenv). Every failure is loud: the lane never skips.
set -euo pipefail

LOCALSTACK_VERSION=2026.3.0
READY_SECONDS=90
STOP_SECONDS=10

die() {
    echo "lane.sh: $*" >&2
    exit 1
}

is_python_313() {
    [[ -x "$1" ]] && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null
}

find_python() {
    if [[ -n "${LOCALSTACK_PYTHON:-}" ]]; then
        is_python_313 "$LOCALSTACK_PYTHON" ||
            die "LOCALSTACK_PYTHON=$LOCALSTACK_PYTHON is not an executable Python >= 3.13"
        echo "$LOCALSTACK_PYTHON"
        return
    fi
    local candidates=() p
    for p in python3.14 python3.13; do
        if command -v "$p" >/dev/null; then candidates+=("$(command -v "$p")"); fi
    done
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    if [[ -d "$root/versions" ]]; then
        while IFS= read -r p; do candidates+=("$p/bin/python3"); done \
            < <(find "$root/versions" -mindepth 1 -maxdepth 1 -name '3.*' | sort -V -r)
    fi
    for p in "${candidates[@]}"; do
        if is_python_313 "$p"; then
            echo "$p"
            return
        fi
    done
    die "LocalStack $LOCALSTACK_VERSION needs Python >= 3.13, and none was found (tried \
LOCALSTACK_PYTHON, python3.14 and python3.13 on PATH, and $root/versions/3.*). Install one \
(e.g. \`pyenv install 3.13\`) or set LOCALSTACK_PYTHON to its path."
}

install() {
    local venv="$1" constraints="$2" python
    python="$(find_python)"
    echo "==> installing localstack-core $LOCALSTACK_VERSION into $venv (with $python)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # No pip cache: nothing is kept outside the project.
    "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
        -c "$constraints" "localstack-core[runtime]==$LOCALSTACK_VERSION"
    XDG_CACHE_HOME="$venv/cache" "$venv/bin/python" -c 'import localstack.runtime.main' ||
        die "localstack-core was installed into $venv but does not import"
}

free_port() {
    "$1" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Whether LocalStack at $2 answers its health check and serves SQS, CloudWatch and STS.
healthy() {
    "$1" - "$2" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_localstack/health", timeout=5) as r:
    services = json.load(r)["services"]
bad = [s for s in ("sqs", "cloudwatch", "sts") if services.get(s) not in ("available", "running")]
sys.exit(1 if bad else 0)
PY
}

# PID and log of the LocalStack we started; set by `run`.
pid=""
log=""

stop() {
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < STOP_SECONDS * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
    fi
    # It runs in its own process group (setsid): whatever is left of it goes now.
    if kill -0 -- "-$pid" 2>/dev/null; then
        echo "==> LocalStack (pid $pid) did not stop within ${STOP_SECONDS}s of SIGTERM; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    echo "==> LocalStack stopped (pid $pid)"
    pid=""
}

log_tail() {
    echo "---- last lines of $log ----" >&2
    tail -n 40 "$log" >&2 || true
}

run() {
    local venv="$1" workdir="$2"
    shift 2
    [[ "${1:-}" == "--" ]] || die "usage: lane.sh run VENV WORKDIR -- CMD…"
    shift
    [[ -x "$venv/bin/python" ]] || die "no LocalStack in $venv: run \`make localstack-tools\`"
    local port state
    port="$(free_port "$venv/bin/python")"
    state="$workdir/localstack-$port"
    rm -rf "$state"
    mkdir -p "$state"
    log="$state/localstack.log"
    : >"$log"
    echo "==> starting LocalStack $LOCALSTACK_VERSION on 127.0.0.1:$port (log $log)"
    trap stop EXIT
    trap 'exit 130' INT TERM
    # Loopback only, no DNS server, no Docker, no certificate download, no analytics; every
    # file it writes stays under $state (its plugin index too: XDG_CACHE_HOME).
    env OVERRIDE_IN_DOCKER=0 GATEWAY_SERVER=hypercorn DNS_ADDRESS=0 \
        GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" \
        FILESYSTEM_ROOT="$state" XDG_CACHE_HOME="$state/cache" SKIP_SSL_CERT_DOWNLOAD=1 \
        DISABLE_EVENTS=1 \
        setsid "$venv/bin/python" -m localstack.runtime.main >"$log" 2>&1 &
    pid=$!
    local url="http://127.0.0.1:$port" started=$SECONDS
    until grep -q '^Ready\.' "$log" && healthy "$venv/bin/python" "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log_tail
            die "LocalStack exited before it was ready"
        fi
        if ((SECONDS - started >= READY_SECONDS)); then
            log_tail
            die "LocalStack was not ready within ${READY_SECONDS}s"
        fi
        sleep 0.5
    done
    echo "==> LocalStack ready after $((SECONDS - started))s at $url"
    local status=0
    QUEUESCALE_ACC_LOCALSTACK="$url" "$@" || status=$?
    if ((status != 0)); then log_tail; fi
    stop
    return "$status"
}

case "${1:-}" in
install)
    [[ $# -eq 3 ]] || die "usage: lane.sh install VENV CONSTRAINTS"
    install "$2" "$3"
    ;;
run)
    [[ $# -ge 5 ]] || die "usage: lane.sh run VENV WORKDIR -- CMD…"
    shift
    run "$@"
    ;;
*)
    die "usage: lane.sh install VENV CONSTRAINTS | lane.sh run VENV WORKDIR -- CMD…"
    ;;
esac
