#!/usr/bin/env bash
# Fetches the pinned CSI specification (csi.proto) and builds csi-sanity from the Go module proxy into
# a cache outside the work tree, as build-k8s.sh does for Kubernetes. `go mod download` and
# `go install pkg@version` check every module against the checksum database (sum.golang.org), so what
# lands in the cache is what the modules' authors published.
# Prints two lines: the path of csi.proto and the path of the csi-sanity binary.
set -euo pipefail

CSI_SPEC_VERSION="${CSI_SPEC_VERSION:-v1.14.0}"
CSI_TEST_VERSION="${CSI_TEST_VERSION:-v5.6.0}"
CACHE_ROOT="${KUBE_IAAS_CACHE:-$HOME/.cache/kube-iaas}"
SPEC_DIR="$CACHE_ROOT/csi-spec-$CSI_SPEC_VERSION"
SANITY_DIR="$CACHE_ROOT/csi-sanity-$CSI_TEST_VERSION/bin"

log() { printf '[build-csi-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ! -f "$SPEC_DIR/csi.proto" || ! -x "$SANITY_DIR/csi-sanity" ]]; then
  command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.25"; exit 2; }
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
fi

if [[ ! -f "$SPEC_DIR/csi.proto" ]]; then
  log "downloading github.com/container-storage-interface/spec@$CSI_SPEC_VERSION"
  mkdir -p "$SPEC_DIR"
  dir=$(go mod download -json "github.com/container-storage-interface/spec@$CSI_SPEC_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -f "$dir/csi.proto" ]] || { log "no csi.proto in $dir"; exit 1; }
  cp "$dir/csi.proto" "$SPEC_DIR/csi.proto.tmp"
  mv "$SPEC_DIR/csi.proto.tmp" "$SPEC_DIR/csi.proto"
fi

if [[ ! -x "$SANITY_DIR/csi-sanity" ]]; then
  log "compiling csi-sanity $CSI_TEST_VERSION (first time only, ~2 min)"
  t=$(date +%s)
  mkdir -p "$SANITY_DIR"
  GOBIN="$SANITY_DIR/.tmp" GOFLAGS="${GOFLAGS:-} -mod=mod" go install -trimpath -ldflags "-s -w" \
    "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_TEST_VERSION" >&2
  mv "$SANITY_DIR/.tmp/csi-sanity" "$SANITY_DIR/csi-sanity"
  rmdir "$SANITY_DIR/.tmp"
  log "built csi-sanity in $(( $(date +%s) - t ))s"
fi
echo "$SPEC_DIR/csi.proto"
echo "$SANITY_DIR/csi-sanity"
