#!/usr/bin/env bash
# Builds SeaweedFS (`weed`, its S3 gateway is the S3-compatible server the recording-storage tests
# use) at the version pinned in versions.env, into the per-machine cache beside the LiveKit
# binaries, and links .stack/seaweedfs to it. Idempotent: a stamp file records the build, and
# nothing is rebuilt while it matches the pin. Called by install.sh (npm run stack:install).
#
#   bash sip/stack/install_seaweedfs.sh
#   STACK_FORCE_REBUILD=1 bash sip/stack/install_seaweedfs.sh
#   bash sip/stack/install_seaweedfs.sh --check   # exit 0 when installed, 1 when a build is needed
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin_dir="$cache_dir/seaweedfs/$SEAWEEDFS_VERSION"
build_dir="$cache_dir/seaweedfs/build"
stamp="$bin_dir/version.stamp"
go_bin="${GO_BIN:-$(command -v go || echo /usr/local/go/bin/go)}"

log() { printf '[stack:install seaweedfs] %s\n' "$*" >&2; }

mkdir -p "$stack_dir" "$bin_dir" "$build_dir"
exec 8>"$cache_dir/seaweedfs/install.lock"
flock 8

link_bin() { ln -sfn "$bin_dir" "$stack_dir/seaweedfs"; }

if [[ -z ${STACK_FORCE_REBUILD:-} && -x $bin_dir/weed && -f $stamp && $(cat "$stamp") == "$SEAWEEDFS_VERSION" ]]; then
  link_bin
  log "up to date ($SEAWEEDFS_VERSION, cached in $bin_dir)"
  exit 0
fi
# --check: only say whether it is installed (install.sh's fast path), build nothing.
if [[ ${1:-} == --check ]]; then exit 1; fi

# `go install weed@version` is refused because SeaweedFS's go.mod has a replace directive;
# a throwaway module that requires the pinned version and repeats the replace builds the same code.
log "building weed $SEAWEEDFS_VERSION with $("$go_bin" version) (cold: several minutes)"
mod="$build_dir/wrapper"
mkdir -p "$mod"
cat > "$mod/go.mod" <<GOMOD
module practiceline.local/s3build

go $GO_MIN_VERSION

require $SEAWEEDFS_MODULE $SEAWEEDFS_VERSION

replace ${SEAWEEDFS_REPLACE%%=*} => ${SEAWEEDFS_REPLACE#*=}
GOMOD
sed -i 's/ => \(.*\)@\(v[^ ]*\)$/ => \1 \2/' "$mod/go.mod"
printf 'package main\n\nimport _ "%s/command"\n\nfunc main() {}\n' "$SEAWEEDFS_PACKAGE" > "$mod/tools.go"
rm -f "$mod/go.sum"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=auto CGO_ENABLED=0
(cd "$mod" && "$go_bin" mod tidy && "$go_bin" build -o "$build_dir/weed.new" "$SEAWEEDFS_PACKAGE")
mv -f "$build_dir/weed.new" "$bin_dir/weed"
printf '%s' "$SEAWEEDFS_VERSION" > "$stamp"
link_bin
log "installed in $(( $(date +%s) - started ))s"
