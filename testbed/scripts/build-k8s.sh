#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl) and etcd from the Go module proxy into a cache outside the work tree.
# k8s.io/kubernetes is not meant to be consumed as a module: its go.mod points the staging
# modules at ./staging, so we replace each of them with the published k8s.io/* v0.X.Y release.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.0}"
CACHE_ROOT="${KUBE_IAAS_CACHE:-$HOME/.cache/kube-iaas}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION/bin"
WORK="$CACHE_ROOT/k8s-$K8S_VERSION/build"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

log() { printf '[build-k8s %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=()
for b in "${want[@]}"; do [[ -x "$OUT/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then log "cached in $OUT"; echo "$OUT"; exit 0; fi

command -v go >/dev/null || { log "go is not on PATH; install Go >= 1.26 or set KUBEBUILDER_ASSETS"; exit 2; }
mkdir -p "$OUT" "$WORK/k8s" "$WORK/etcd"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

start=$(date +%s)
build_k8s() {
  cd "$WORK/k8s"
  if [[ ! -f go.mod ]]; then
    log "resolving k8s.io/kubernetes@$K8S_VERSION (staging modules -> $STAGING_VERSION)"
    modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$modfile")
    cat > go.mod <<MOD
module kube-iaas.dev/testbed-k8s-build

go $gover

require k8s.io/kubernetes $K8S_VERSION
MOD
    # Every "k8s.io/x => ./staging/..." line becomes "k8s.io/x => k8s.io/x v0.Y.Z".
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@$STAGING_VERSION"
    done
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler/app"\n\t_ "k8s.io/kubectl/pkg/cmd"\n)\n' > tools.go
    log "downloading modules (first time only)"
    go mod tidy >&2
  fi
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#v1.} -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$OUT/$b" ]] && continue
    log "compiling $b (a cold build takes several minutes per binary on 2 cores)"
    local t=$(date +%s)
    go build -trimpath -ldflags "$ld" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b" >&2
    mv "$OUT/$b.tmp" "$OUT/$b"
    log "built $b in $(( $(date +%s) - t ))s"
  done
}
build_etcd() {
  [[ -x "$OUT/etcd" ]] && return 0
  cd "$WORK/etcd"
  if [[ ! -f go.mod ]]; then
    log "resolving go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    printf 'module kube-iaas.dev/testbed-etcd-build\n\ngo 1.25\n' > go.mod
    printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n' > tools.go
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    go mod tidy >&2
  fi
  log "compiling etcd"
  local t=$(date +%s)
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$OUT/etcd.tmp" "$OUT/etcd"
  log "built etcd in $(( $(date +%s) - t ))s"
}
build_etcd
build_k8s
log "all binaries in $OUT after $(( $(date +%s) - start ))s"
echo "$OUT"
