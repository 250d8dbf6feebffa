#!/usr/bin/env bash
# Builds cnitool, the CNI reference client (github.com/containernetworking/cni), from the Go module
# proxy into a cache outside the work tree. The namespace tests and the node simulator drive our CNI
# plugin through it, the way a container runtime would.
set -euo pipefail

CNI_VERSION="${CNI_VERSION:-v1.3.1}"
CACHE_ROOT="${KUBE_IAAS_CACHE:-$HOME/.cache/kube-iaas}"
OUT="$CACHE_ROOT/cni-$CNI_VERSION/bin"
WORK="$CACHE_ROOT/cni-$CNI_VERSION/build"

log() { printf '[build-cni-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -x "$OUT/cnitool" ]]; then log "cached in $OUT"; echo "$OUT"; exit 0; fi
command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.24"; exit 2; }
mkdir -p "$OUT" "$WORK"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
cd "$WORK"
if [[ ! -f go.mod ]]; then
  printf 'module kube-iaas.dev/testbed-cni-build\n\ngo 1.24\n' > go.mod
  printf 'package tools\n\nimport _ "github.com/containernetworking/cni/cnitool"\n' > tools.go
  go get "github.com/containernetworking/cni@$CNI_VERSION" >&2
  go mod tidy >&2
fi
log "compiling cnitool $CNI_VERSION"
go build -trimpath -ldflags "-s -w" -o "$OUT/cnitool.tmp" github.com/containernetworking/cni/cnitool >&2
mv "$OUT/cnitool.tmp" "$OUT/cnitool"
log "built $OUT/cnitool"
echo "$OUT"
