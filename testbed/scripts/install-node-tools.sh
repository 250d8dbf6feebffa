#!/usr/bin/env bash
# Installs the filesystem tools the CSI node plugin runs (and its tests need) when the machine lacks
# them: pinned Debian packages through apt. e2fsprogs (mkfs.ext4, resize2fs), util-linux (blkid,
# losetup, mount) are in every Debian base; xfsprogs (mkfs.xfs, xfs_growfs) is not.
# Needs root; prints nothing on success when everything is already there.
set -euo pipefail

declare -A PINNED=( [xfsprogs]="${XFSPROGS_VERSION:-6.1.0-1}" [e2fsprogs]="" [util-linux]="" [mount]="" )
declare -A TOOL_PKG=( [mkfs.xfs]=xfsprogs [xfs_growfs]=xfsprogs [mkfs.ext4]=e2fsprogs [mkfs.ext3]=e2fsprogs [resize2fs]=e2fsprogs [blkid]=util-linux [losetup]=mount [mount]=mount [umount]=mount )

missing=()
for tool in "${!TOOL_PKG[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing+=("${TOOL_PKG[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ $(id -u) -ne 0 ]]; then
  echo "install-node-tools: missing ${pkgs[*]}; run this script as root (apt-get install)" >&2
  exit 2
fi
spec=()
for p in "${pkgs[@]}"; do
  v="${PINNED[$p]:-}"
  if [[ -n "$v" ]]; then spec+=("$p=$v"); else spec+=("$p"); fi
done
echo "install-node-tools: apt-get install ${spec[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# apt keeps the downloaded .debs in /var/cache/apt/archives: a reinstall does not fetch them again.
apt-get install -y --no-install-recommends "${spec[@]}" >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends "${spec[@]}" >&2; }
