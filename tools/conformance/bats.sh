#!/bin/bash
# Run runc's integration suite (tests/integration/*.bats of a built runc checkout) against one
# runtime, one file at a time, each under `script` (some tests need a terminal on stdin).
#
# usage: bats.sh /path/to/runtime [file.bats ...]
#   env SUITE     the runc checkout (tests/integration, contrib/cmd/* built, testdata images made;
#                 see docs/conformance.md). Required.
#   env LOGDIR    where per-file TAP output goes (default /tmp/cell-bats/<runtime-basename>)
#   env TIMEOUT   per-file timeout in seconds (default 600)
#   env TEST_TIMEOUT  per-test timeout in seconds (bats' BATS_TEST_TIMEOUT; default none: its
#                 watchdog is a child of the test, so the tests that `wait` for their own
#                 background jobs (events.bats) would wait for it and always time out)
#
# Prints "<file> ok=N notok=M skip=K rc=R <secs>s" per file, then a TOTAL line. A skipped test
# (systemd, criu, rootless...) counts as neither passed nor failed.
set -u

RT=${1:?usage: bats.sh /path/to/runtime [file.bats ...]}
shift
# Absolute, but links kept: cell answers to the name it is run as (a link named runc).
RT=$(command -v "$RT" || echo "$RT")
RT=$(cd "$(dirname "$RT")" && pwd)/$(basename "$RT")
[ -x "$RT" ] || { echo "runtime not executable: $RT" >&2; exit 2; }
SUITE=${SUITE:?set SUITE to a runc checkout prepared as in docs/conformance.md}
LOGDIR=${LOGDIR:-/tmp/cell-bats/$(basename "$RT")}
TIMEOUT=${TIMEOUT:-600}
[ -n "${TEST_TIMEOUT:-}" ] && export BATS_TEST_TIMEOUT=$TEST_TIMEOUT
for tool in bats jq script gcc gawk; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install bats jq bsdutils gcc gawk)" >&2; exit 2; }
done
cd "$SUITE/tests/integration" || exit 2
mkdir -p "$LOGDIR"

if [ $# -gt 0 ]; then FILES=("$@"); else mapfile -t FILES < <(ls ./*.bats | sed 's|^\./||'); fi

# Every bundle, state root and console socket of this run lives under one directory, so that
# what the suite leaves behind can be found (and removed) without touching anything else.
RUNTMP=$(mktemp -d /tmp/cell-bats.XXXXXX)
chmod 0755 "$RUNTMP"   # user-namespace tests need the mapped root to traverse it
export TMPDIR=$RUNTMP

# A test that fails before its container takes the console leaves the suite's recvtty
# waiting for ever, holding bats' output pipe open: once every result of the file is
# written, end the recvtty processes of this run.
reap_recvtty() {
    local out=$1 plan done
    while sleep 2; do
        plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$out" 2>/dev/null | cut -d. -f3)
        done=$(grep -cE '^(not )?ok [0-9]+' "$out" 2>/dev/null)
        if [ -n "$plan" ] && [ "$done" -ge "$plan" ]; then
            sleep 5
            pgrep -f "recvtty.* $RUNTMP/" | xargs -r kill -9 2>/dev/null
        fi
    done
}

# The suite's create_parent makes /sys/fs/cgroup/<controller>/... for every controller in
# /proc/cgroups, mounted or not; for an unmounted one (net_cls, perf_event... on a fresh VM)
# that is a plain directory on the tmpfs. Remember what is there to remove only what it adds.
CGROUP_ROOT_BEFORE=$(ls /sys/fs/cgroup)

tot_ok=0 tot_notok=0 tot_skip=0
start=$(date +%s)
for f in "${FILES[@]}"; do
    out=$LOGDIR/${f%.bats}.tap
    t0=$(date +%s)
    # script gives bats a terminal on stdin, as runc's CI does; TAP goes to a file.
    : > "$out"
    reap_recvtty "$out" &
    reaper=$!
    RUNC=$RT timeout -k 10 "$TIMEOUT" script -qec "bats --tap '$f' > '$out' 2>&1" /dev/null \
        < /dev/null > /dev/null 2>&1
    rc=$?
    kill "$reaper" 2>/dev/null
    wait "$reaper" 2>/dev/null
    pgrep -f "recvtty.* $RUNTMP/" | xargs -r kill -9 2>/dev/null
    skip=$(grep -cE '^ok [0-9]+ .*# skip' "$out")
    ok=$(( $(grep -cE '^ok [0-9]+' "$out") - skip ))
    notok=$(grep -cE '^not ok [0-9]+' "$out")
    printf '%-32s ok=%d notok=%d skip=%d rc=%d %ds\n' "$f" "$ok" "$notok" "$skip" "$rc" "$(( $(date +%s) - t0 ))"
    tot_ok=$((tot_ok + ok)); tot_notok=$((tot_notok + notok)); tot_skip=$((tot_skip + skip))
done
# The suite's parent cgroups (set_cgroups_path with a pod) are removed per controller only;
# on a hybrid host the one in the unified hierarchy stays. rmdir only: a busy one stays.
for d in /sys/fs/cgroup/*/runc-cgroups-integration-test; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
done
for d in /sys/fs/cgroup/*/; do
    d=${d%/}
    grep -qxF "$(basename "$d")" <<<"$CGROUP_ROOT_BEFORE" && continue
    mountpoint -q "$d" || find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
done
rm -rf --one-file-system "$RUNTMP"
printf 'TOTAL ok=%d notok=%d skip=%d time=%ds runtime=%s logs=%s\n' \
    "$tot_ok" "$tot_notok" "$tot_skip" "$(( $(date +%s) - start ))" "$RT" "$LOGDIR"
