#!/usr/bin/env bash
# Installs the Debian packages the namespace tests of the CNI plugin need (nft for the SNAT chain,
# ip and nsenter for the wiring, ping for bounded reachability checks), at pinned versions.
# Idempotent: a tool already on PATH is left as it is.
# Needs root (apt-get); CI runs as root.
set -euo pipefail

NFTABLES_VERSION="${NFTABLES_VERSION:-1.0.6-2+deb12u2}"
IPROUTE2_VERSION="${IPROUTE2_VERSION:-6.1.0-3}"
IPUTILS_VERSION="${IPUTILS_VERSION:-3:20221126-1+deb12u1}"

log() { printf '[install-net-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

pkgs=()
command -v nft >/dev/null || pkgs+=("nftables=$NFTABLES_VERSION")
command -v ip >/dev/null || pkgs+=("iproute2=$IPROUTE2_VERSION")
command -v nsenter >/dev/null || pkgs+=("util-linux")
command -v ping >/dev/null || pkgs+=("iputils-ping=$IPUTILS_VERSION")
if [[ ${#pkgs[@]} -eq 0 ]]; then log "nft, ip, nsenter and ping present"; exit 0; fi
[[ $(id -u) -eq 0 ]] || { log "need root to install ${pkgs[*]}"; exit 2; }
command -v apt-get >/dev/null || { log "no apt-get: install ${pkgs[*]} by hand"; exit 2; }
export DEBIAN_FRONTEND=noninteractive
log "installing ${pkgs[*]}"
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
log "installed ${pkgs[*]}"
