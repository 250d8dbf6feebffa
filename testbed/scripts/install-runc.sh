#!/usr/bin/env bash
# Fetches runc from Debian (pinned, `apt-get download`: signed indexes) into the cache, unpacked, not
# installed: the image tests run each operator image with it, as root, without a container daemon.
# crun 1.8.1 (bookworm) was tried first and refuses this machine's hybrid cgroup v1/v2 layout.
# Prints one line: the path of the runc binary.
set -euo pipefail

RUNC_VERSION="${RUNC_VERSION:-1.1.5+ds1-1+deb12u1}"
CACHE_ROOT="${KUBE_IAAS_CACHE:-$HOME/.cache/kube-iaas}"
DIR="$CACHE_ROOT/runc-$RUNC_VERSION"

log() { printf '[install-runc %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ! -x "$DIR/usr/sbin/runc" ]]; then
  command -v apt-get >/dev/null || { log "apt-get is not available: runc comes from Debian's packages"; exit 2; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  log "downloading runc=$RUNC_VERSION"
  (cd "$tmp" && apt-get download "runc=$RUNC_VERSION" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  deb=$(ls "$tmp"/runc_*.deb 2>/dev/null | head -1)
  [[ -n "$deb" ]] || { log "apt-get download runc=$RUNC_VERSION failed (apt-get update? version gone from the mirror?)"; exit 1; }
  mkdir -p "$DIR.tmp"
  dpkg-deb -x "$deb" "$DIR.tmp"
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
fi
# runc links libseccomp (Debian's libseccomp2, part of every bookworm base system).
ldd "$DIR/usr/sbin/runc" | grep -q 'not found' && { log "runc misses a shared library: $(ldd "$DIR/usr/sbin/runc" | grep 'not found')"; exit 1; }
echo "$DIR/usr/sbin/runc"
