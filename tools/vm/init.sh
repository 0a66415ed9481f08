#!/bin/sh
# /init of the cell test VM (busybox sh, pid 1). Stage 1 leaves the initramfs root, on which
# pivot_root(2) always fails, for a bind mount of it (zero-copy); stage 2 sets up a pure
# cgroup v2 system, runs `deno` with the arguments in /cell-vm/args inside /cell (the repo
# copy), prints them between markers the host runner parses, and powers off.
# The host half is tools/vm/run.ts; the markers must match tools/vm/results.ts.

if [ "$1" != stage2 ]; then
  /bin/busybox mkdir -p /newroot
  /bin/busybox mount --bind / /newroot
  cd /newroot || exit 1
  /bin/busybox mount --move . /
  exec /bin/busybox chroot . /init stage2
fi

export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export HOME=/root
export DENO_DIR=/tmp/deno-dir
export DENO_NO_UPDATE_CHECK=1
export DENO_NO_PROMPT=1
export NO_COLOR=1
export TERM=dumb

fail() {
  echo "@@cell-vm: setup failed: $*@@"
  poweroff -f
}

mount -t proc -o nosuid,nodev,noexec proc /proc || fail "mount /proc"
echo "vm: /init at $(cut -d' ' -f1 /proc/uptime)s"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fail "mount /sys"
mount -t devtmpfs -o nosuid,mode=755 devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,gid=5,mode=620 devpts /dev/pts ||
  fail "mount /dev/pts"
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run || fail "mount /run"
# AppArmor's policy interface, for apparmor_parser.
mount -t securityfs -o nosuid,nodev,noexec securityfs /sys/kernel/security ||
  fail "mount securityfs"

for module in /lib/modules/cell-vm/*.ko; do
  [ -e "$module" ] || continue
  insmod "$module" || fail "insmod $module"
done

# Pure cgroup v2, mounted as systemd does. The root cgroup may keep processes and still
# delegate controllers, but like systemd keep them in a leaf: /init holds this shell.
cg=/sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $cg ||
  fail "mount cgroup2"
mkdir -p $cg/init
echo $$ >$cg/init/cgroup.procs || fail "move init into $cg/init"
for c in cpu cpuset io memory pids hugetlb; do
  if grep -qw "$c" $cg/cgroup.controllers; then
    echo "+$c" >$cg/cgroup.subtree_control || fail "enable the $c controller"
  fi
done

ip link set lo up || fail "bring up lo"
hostname cell-vm

set --
while IFS= read -r arg; do set -- "$@" "$arg"; done </cell-vm/args

echo "vm: kernel $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo | tr -s ' ')"
echo "vm: cgroup2 controllers $(cat $cg/cgroup.subtree_control)"
echo "@@cell-vm: begin at $(cut -d' ' -f1 /proc/uptime)s: deno $*@@"
cd /cell || fail "no /cell"
# A hung test is explained, not only timed out: shortly before the host gives up, every
# process's state and wait channel, each thread's, and the container cgroups' members go to
# the console.
if [ -r /cell-vm/watchdog ]; then
  (
    sleep "$(cat /cell-vm/watchdog)"
    echo "vm: watchdog: deno test still runs after $(cat /cell-vm/watchdog) s; every process:"
    for p in /proc/[0-9]*; do
      cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-120)
      [ -n "$cmd" ] || continue # a kernel thread
      echo "vm: pid ${p#/proc/} $(grep -E '^(State|PPid)' "$p/status" 2>/dev/null | tr -s '\t\n' '  ')" \
        "wchan $(cat "$p/wchan" 2>/dev/null) cmd $cmd"
      for t in "$p"/task/*; do
        echo "vm:   thread ${t##*/} $(cat "$t/comm" 2>/dev/null)" \
          "$(grep '^State' "$t/status" 2>/dev/null | tr -s '\t' ' ') wchan $(cat "$t/wchan" 2>/dev/null)"
      done
    done
    for f in $(find $cg/cell -name cgroup.procs 2>/dev/null); do
      echo "vm: $f: $(tr '\n' ' ' <"$f")"
    done
  ) &
fi
# Through a pipe, so deno's output is not a terminal's (no progress rewrites on the console).
set -o pipefail
deno "$@" </dev/null 2>&1 | cat
rc=$?
echo "@@cell-vm: end at $(cut -d' ' -f1 /proc/uptime)s: exit $rc@@"
poweroff -f
