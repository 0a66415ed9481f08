#!/usr/bin/env bash
# Installs what building and testing cell needs: Deno (npm package `deno`), Zig (PyPI
# package `ziglang`), both at the versions pinned in tools/versions.env, and the Debian
# packages the tests use, and the unprivileged user the rootless tests run as.
# Idempotent, and quiet when everything is already there.
# Usage: sudo tools/setup.sh [--with-peers] [--with-vm] [--with-engines]
#   --with-peers adds runc and crun for the bench;
#   --with-engines adds podman, conmon, netavark, nftables, containerd and CNI plugins (tests/engines/engines_test.ts), and
#   crictl built with Go from the module proxy (tests/engines/cri_test.ts);
#   --with-vm adds QEMU, xz and apparmor_parser for the cgroup v2 guest (`deno task test:vm`; the
#   guest kernel is downloaded into a cache by tools/vm/assets.ts, not installed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

prefix=${CELL_TOOLCHAIN:-/opt/cell-toolchain}
bindir=${CELL_BINDIR:-/usr/local/bin}
want_peers=0
want_vm=0
want_engines=0
for arg in "$@"; do
  case "$arg" in
    --with-peers) want_peers=1 ;;
    --with-vm) want_vm=1 ;;
    --with-engines) want_engines=1 ;;
    *)
      echo "setup: unknown option $arg (usage: tools/setup.sh [--with-peers] [--with-vm] [--with-engines])" >&2
      exit 2
      ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (sudo tools/setup.sh): it installs Debian packages and links into $bindir" >&2
  exit 1
fi

log() { printf 'setup: %s\n' "$*"; }

install_deno() {
  local dir="$prefix/deno-$DENO_VERSION"
  if [ ! -x "$dir/node_modules/.bin/deno" ]; then
    log "installing deno $DENO_VERSION from npm"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "deno@$DENO_VERSION" >/dev/null
  fi
  # The npm wrapper execs the real binary; link the binary itself so `deno` starts fast.
  local real
  real=$(find "$dir/node_modules" -path '*/@deno/*' -type f -name deno -perm -u+x | head -n 1)
  [ -n "$real" ] || real="$dir/node_modules/.bin/deno"
  if [ "$(readlink -f "$bindir/deno" 2>/dev/null)" != "$(readlink -f "$real")" ]; then
    ln -sf "$real" "$bindir/deno"
  fi
}

install_zig() {
  local dir="$prefix/zig-$ZIG_VERSION"
  if [ ! -x "$dir/ziglang/zig" ]; then
    log "installing zig $ZIG_VERSION from PyPI"
    mkdir -p "$dir"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$dir" "ziglang==$ZIG_VERSION"
  fi
  if [ "$(readlink -f "$bindir/zig" 2>/dev/null)" != "$(readlink -f "$dir/ziglang/zig")" ]; then
    ln -sf "$dir/ziglang/zig" "$bindir/zig"
  fi
}

install_debs() {
  local missing=()
  local pkgs=(busybox-static iproute2 uidmap python3 strace)
  [ $want_peers -eq 1 ] && pkgs+=(runc crun)
  [ $want_vm -eq 1 ] && pkgs+=(qemu-system-x86 xz-utils apparmor)
  [ $want_engines -eq 1 ] && pkgs+=(podman conmon netavark containerd fuse-overlayfs containernetworking-plugins iptables nftables)
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# crictl (Kubernetes' CRI client, for tests/engines/cri_test.ts) is not packaged by Debian: built
# from the Go module proxy with the machine's Go, kept per version and linked into bindir.
install_crictl() {
  local dir="$prefix/crictl-$CRICTL_VERSION"
  if [ ! -x "$dir/crictl" ]; then
    local go
    go=$(command -v go || true)
    [ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
    if [ -z "$go" ]; then
      echo "setup: crictl $CRICTL_VERSION needs Go to build it (go on PATH or /usr/local/go/bin/go); install Go" >&2
      exit 1
    fi
    log "building crictl $CRICTL_VERSION with $("$go" version | cut -d' ' -f3)"
    mkdir -p "$dir"
    local gopath
    gopath=$(mktemp -d)
    if ! GOBIN="$dir" GOPATH="$gopath" GOMODCACHE="$gopath/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
      "$go" install -ldflags "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
      "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >"$gopath/build.log" 2>&1; then
      cat "$gopath/build.log" >&2
      rm -rf "$gopath"
      echo "setup: building crictl $CRICTL_VERSION failed" >&2
      exit 1
    fi
    rm -rf "$gopath"
  fi
  if [ "$(readlink -f "$bindir/crictl" 2>/dev/null)" != "$(readlink -f "$dir/crictl")" ]; then
    ln -sf "$dir/crictl" "$bindir/crictl"
  fi
}

# The rootless tests run as this unprivileged user, with subordinate ids for
# newuidmap/newgidmap.
ensure_rootless_user() {
  local user=cell-rootless
  if ! id -u "$user" >/dev/null 2>&1; then
    log "adding the user $user for the rootless tests"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  fi
  grep -q "^$user:" /etc/subuid 2>/dev/null || usermod --add-subuids 300000-365535 "$user"
  grep -q "^$user:" /etc/subgid 2>/dev/null || usermod --add-subgids 300000-365535 "$user"
}

install_deno
install_zig
install_debs
[ $want_engines -eq 1 ] && install_crictl
ensure_rootless_user
