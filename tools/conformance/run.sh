#!/bin/bash
# Run every runtime-tools validation executable against one OCI runtime.
#
# usage: run.sh /path/to/runtime [test-name-or-path ...]
#   env TIMEOUT   per-test timeout in seconds (default 60)
#   env LOGDIR    where per-test TAP output goes (default /tmp/cell-conformance/<runtime-basename>)
#   env CMDLOG    if set, the runtime is wrapped by a script that appends each argv to $CMDLOG
#   env OCI_VERSION  if set, the wrapper rewrites "ociVersion" in <bundle>/config.json to this value
#                 before each `create` (the suite writes 1.3.0; crun 1.8.1 rejects it: "unknown version specified")
#   (CMDLOG / OCI_VERSION route the runtime through rt-wrap.sh next to this script)
#   env KEEP_TMP     1 = keep the per-run TMPDIR (/tmp/ocival.*) holding the test bundles
#   env SUITE     runtime-tools checkout containing runtimetest, rootfs-amd64.tar.gz and validation/*/*.t
#                 (required: built by hand from a fetched copy, see docs/conformance.md)
#
# Prints "<file> ok=N notok=M skip=K rc=R <secs>s PASS|FAIL [TIMEOUT] [noplan] [diagerr=N] [leakedmounts=N]"
# per test, then a TOTAL line.
#   leakedmounts=N = the test left N mounts under its bundle dir in the host mount namespace
#   noplan    = no "1..N" plan line (test aborted, usually util.Fatal after a runtime error)
#   diagerr=N = N YAML diagnostic blocks carrying "error" that belong to no test point
#               (how hooks/prestart/poststart/... tests report failure: they emit "1..0" plus this block)
# Verdict FAIL (counted in files_with_problems) if rc!=0, notok>0, or diagerr>0.
# "noplan" with rc=0 is how process_rlimits_fail reports a PASS (runtime rejected the config,
# test printed nothing); with rc!=0 it is an aborted test (util.Fatal).
# Tests must run with cwd = SUITE (they read ./runtimetest and ./rootfs-$GOARCH.tar.gz).
set -u

RT=${1:?usage: run.sh /path/to/runtime [tests...]}
shift
RT=$(readlink -f "$(command -v "$RT" || echo "$RT")")
[ -x "$RT" ] || { echo "runtime not executable: $RT" >&2; exit 2; }
SUITE=${SUITE:?set SUITE to a built runtime-tools checkout (docs/conformance.md)}
TIMEOUT=${TIMEOUT:-60}
LOGDIR=${LOGDIR:-/tmp/cell-conformance/$(basename "$RT")}
mkdir -p "$LOGDIR"

RUNTIME_CMD=$RT
if [ -n "${CMDLOG:-}" ] || [ -n "${OCI_VERSION:-}" ]; then
    RUNTIME_CMD=$(dirname "$(readlink -f "$0")")/rt-wrap.sh
    export RT_WRAP_REAL=$RT RT_WRAP_CMDLOG=${CMDLOG:-} RT_WRAP_OCIVER=${OCI_VERSION:-}
fi

cd "$SUITE" || exit 2
for f in runtimetest "rootfs-$(go env GOARCH 2>/dev/null || echo amd64).tar.gz"; do
    [ -e "$f" ] || { echo "missing $SUITE/$f" >&2; exit 2; }
done

if [ $# -gt 0 ]; then
    TESTS=()
    for t in "$@"; do
        case $t in
            *.t) TESTS+=("$t") ;;
            *)   TESTS+=("validation/$t/$t.t") ;;
        esac
    done
else
    mapfile -t TESTS < <(ls validation/*/*.t | sort)
fi

# Bundles (/tmp/ocitestNNN, made by os.MkdirTemp) leak when a test aborts; keep them in one
# per-run directory and remove it at the end (KEEP_TMP=1 keeps it for debugging).
WORKTMP=$(mktemp -d /tmp/ocival.XXXXXX)
chmod 0755 "$WORKTMP"   # user-namespace tests need the mapped root to traverse it
export TMPDIR=$WORKTMP

tot_ok=0 tot_notok=0 tot_skip=0 tot_diag=0 tot_files=0 bad_files=0
start=$(date +%s)
for t in "${TESTS[@]}"; do
    name=$(basename "$t" .t)
    out=$LOGDIR/$name.tap
    err=$LOGDIR/$name.err
    m0=$(grep -c " $WORKTMP/" /proc/self/mountinfo)
    t0=$(date +%s)
    RUNTIME=$RUNTIME_CMD timeout -k 5 "$TIMEOUT" "./$t" > "$out" 2> "$err" < /dev/null
    rc=$?
    dt=$(( $(date +%s) - t0 ))
    skip=$(grep -cE '^ok [0-9]+.*# [Ss][Kk][Ii][Pp]' "$out")
    okall=$(grep -cE '^ok( |$)' "$out")
    ok=$(( okall - skip ))
    notok=$(grep -cE '^not ok( |$)' "$out")
    plan=$(grep -oE '^1\.\.[0-9]+' "$out" | head -1)
    # Some tests (hooks, prestart, poststart, ...) report failure only as a YAML
    # diagnostic block with an "error" key that is not attached to any test point.
    diagerr=$(awk '
        /^(ok|not ok)( |$)/ { attached = 1; next }
        /^1\.\.[0-9]+/ || /^TAP version/ { attached = 0; next }
        /^  ---$/          { inblk = 1; orphan = !attached; haserr = 0; next }
        /^  \.\.\.$/        { if (inblk && orphan && haserr) n++; inblk = 0; attached = 0; next }
        inblk && /^    "error":/ { haserr = 1; next }
        END { print n + 0 }' "$out")
    m1=$(grep -c " $WORKTMP/" /proc/self/mountinfo)
    extra=""
    [ "$m1" -gt "$m0" ] && extra=" leakedmounts=$((m1 - m0))"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && extra=" TIMEOUT"
    [ -z "$plan" ] && extra="$extra noplan"
    [ "$diagerr" -gt 0 ] && extra="$extra diagerr=$diagerr"
    verdict=PASS
    if [ "$rc" -ne 0 ] || [ "$notok" -gt 0 ] || [ "$diagerr" -gt 0 ]; then verdict=FAIL; fi
    printf '%-45s ok=%d notok=%d skip=%d rc=%d %ds %s%s\n' "$t" "$ok" "$notok" "$skip" "$rc" "$dt" "$verdict" "$extra"
    tot_ok=$((tot_ok + ok)); tot_notok=$((tot_notok + notok)); tot_skip=$((tot_skip + skip)); tot_diag=$((tot_diag + diagerr))
    tot_files=$((tot_files + 1))
    if [ "$rc" -ne 0 ] || [ "$notok" -gt 0 ] || [ "$diagerr" -gt 0 ]; then bad_files=$((bad_files + 1)); fi
done
# The cgroup tests use /cgrouptest and testdir/cgrouptest/container; runtimes leave the parent
# dirs behind. Remove them (rmdir only: anything non-empty or busy stays).
for h in /sys/fs/cgroup/*/; do
    for d in "${h}testdir" "${h}cgrouptest"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
done
# Some tests leave container mounts (proc, sys, dev, ...) visible in the host namespace under
# the bundle dir. Never rm -rf across them: detach them first, and stay on one filesystem.
leaked=$(awk -v p="$WORKTMP/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
if [ "${KEEP_TMP:-0}" != 1 ]; then
    for m in $leaked; do umount -l "$m" 2>/dev/null; done
    rm -rf --one-file-system "$WORKTMP"
fi
printf 'TOTAL files=%d files_with_problems=%d ok=%d notok=%d skip=%d diagerr=%d time=%ds runtime=%s logs=%s\n' \
    "$tot_files" "$bad_files" "$tot_ok" "$tot_notok" "$tot_skip" "$tot_diag" "$(( $(date +%s) - start ))" "$RT" "$LOGDIR"
