#!/usr/bin/env bash
# Builds helm (helm.sh/helm/v4, pinned) from the Go module proxy into a cache outside the work tree, as
# build-csi-tools.sh does for csi-sanity. `go install pkg@version` checks every module against the checksum
# database (sum.golang.org), so the binary is built from what helm's authors published.
# Prints one line: the path of the helm binary.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.2}"
CACHE_ROOT="${KUBE_IAAS_CACHE:-$HOME/.cache/kube-iaas}"
HELM_DIR="$CACHE_ROOT/helm-$HELM_VERSION/bin"

log() { printf '[build-helm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ! -x "$HELM_DIR/helm" ]]; then
  command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.25"; exit 2; }
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  log "compiling helm $HELM_VERSION (first time only, a few minutes)"
  t=$(date +%s)
  mkdir -p "$HELM_DIR"
  # helm prints its version from this variable; without it `helm version` says v4-dev.
  GOBIN="$HELM_DIR/.tmp" GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
  mv "$HELM_DIR/.tmp/helm" "$HELM_DIR/helm"
  rmdir "$HELM_DIR/.tmp"
  log "built helm in $(( $(date +%s) - t ))s"
fi
echo "$HELM_DIR/helm"
