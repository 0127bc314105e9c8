#!/usr/bin/env bash
# Installs the test world the tests run against: redis-server and the build dependencies
# from Debian, then livekit-server and livekit-sip built with Go at the versions pinned in
# versions.env, into the ignored folder .stack/bin, and SeaweedFS (install_seaweedfs.sh). Idempotent and fast when warm: a stamp
# file records what was built, and nothing is rebuilt while it matches the pins.
#
#   npm run stack:install            # as root on a fresh Debian machine it apt-installs what is missing
#   STACK_FORCE_REBUILD=1 npm run stack:install
#   STACK_DIR=/tmp/elsewhere npm run stack:install   # build somewhere else (e.g. to time a cold build)
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
want="livekit-server=$LIVEKIT_SERVER_VERSION livekit-sip=$LIVEKIT_SIP_VERSION"
# .stack/bin is a link to the cached folder of the pinned pair in use.
bin_dir="$cache_dir/stack/livekit-server-${LIVEKIT_SERVER_VERSION}_livekit-sip-${LIVEKIT_SIP_VERSION}"
build_dir="$cache_dir/stack/build"
stamp="$bin_dir/versions.stamp"

log() { printf '[stack:install] %s\n' "$*" >&2; }
die() { printf '[stack:install] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$stack_dir" "$bin_dir" "$build_dir"
# Two installs at once (two clones, or a developer and a hook) would race on the same files.
exec 9>"$cache_dir/stack/install.lock"
flock 9

# .stack/bin -> the cached folder. A real folder left by an older install is moved aside once.
link_bin() {
  if [[ -d $stack_dir/bin && ! -L $stack_dir/bin ]]; then
    rm -rf "$stack_dir/bin.old" && mv "$stack_dir/bin" "$stack_dir/bin.old"
  fi
  ln -sfn "$bin_dir" "$stack_dir/bin"
}

# --- Debian packages -------------------------------------------------------------------
# gcc/libc6-dev: livekit-sip is cgo (opus, soxr); util-linux provides setpriv, which the
# start code uses so servers die with the test process.
apt_packages=(redis-server pkg-config libopus-dev libopusfile-dev libsoxr-dev gcc libc6-dev ca-certificates util-linux curl unzip)
missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # /tmp/apt.lock is shared with the other install steps of this project; flock waits for them.
  flock /tmp/apt.lock apt-get update -qq
  flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Fast path ------------------------------------------------------------------------
livekit_ready=""
if [[ -z ${STACK_FORCE_REBUILD:-} && -x $bin_dir/livekit-server && -x $bin_dir/livekit-sip && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  livekit_ready=1
  link_bin
  # SeaweedFS (the S3-compatible server of the storage tests) is cached the same way.
  if bash "$here/install_seaweedfs.sh" --check; then
    log "up to date ($want, cached in $bin_dir) in $(( $(date +%s) - started ))s"
    exit 0
  fi
fi

# --- Go -------------------------------------------------------------------------------
# A local go >= 1.21 is used as is (GOTOOLCHAIN=auto below switches it to a newer toolchain if
# the modules need one). Without one (Debian 12's golang-go is 1.19), the pinned toolchain is
# fetched from the Go module proxy as the module golang.org/toolchain, as `go` itself does.
go_ok() { # go binary -> true when it is >= 1.21
  local v
  v=$("$1" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [[ -n $v ]] && read -r major minor <<<"$v" && (( major > 1 || minor >= 21 ))
}
go_bin=$(command -v go || true)
if [[ -z $go_bin || ! -x $go_bin ]] || ! go_ok "$go_bin"; then go_bin=""; fi
if [[ -z $go_bin && -x /usr/local/go/bin/go ]] && go_ok /usr/local/go/bin/go; then go_bin=/usr/local/go/bin/go; fi
if [[ -z $go_bin ]]; then
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) die "unsupported CPU $(uname -m)" ;; esac
  toolchain="v0.0.1-$GO_TOOLCHAIN.linux-$arch"
  toolchain_dir="$cache_dir/go/golang.org/toolchain@$toolchain"
  if [[ ! -x $toolchain_dir/bin/go ]]; then
    command -v curl >/dev/null && command -v unzip >/dev/null || die "need curl and unzip to fetch Go"
    log "fetching Go $GO_TOOLCHAIN from the module proxy"
    mkdir -p "$cache_dir/go"
    curl -sSfL -o "$cache_dir/go/toolchain.zip" "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/$toolchain.zip"
    (cd "$cache_dir/go" && unzip -q -o toolchain.zip && rm -f toolchain.zip)
  fi
  go_bin="$toolchain_dir/bin/go"
  unset GOROOT
fi
log "using $("$go_bin" version)"

export CGO_ENABLED=1
# -mod=mod lets the throwaway wrapper module below record checksums as it resolves.
export GOFLAGS="-mod=mod -buildvcs=false"
# An older local go (>= 1.21) switches to a toolchain new enough for the modules' `go` line.
export GOTOOLCHAIN=auto

if [[ -z $livekit_ready ]]; then
# --- livekit-server --------------------------------------------------------------------
t0=$(date +%s)
log "building livekit-server $LIVEKIT_SERVER_VERSION"
GOBIN="$build_dir/gobin" "$go_bin" install "$LIVEKIT_SERVER_PACKAGE@$LIVEKIT_SERVER_VERSION"
mv -f "$build_dir/gobin/server" "$bin_dir/livekit-server"
log "livekit-server built in $(( $(date +%s) - t0 ))s"

# --- livekit-sip -----------------------------------------------------------------------
# Not `go install pkg@version`: that also fetches the module's version list to check for
# deprecations, which this proxy refuses for livekit/sip (403). Building the command from a
# throwaway module that requires the pinned version resolves exactly the same dependencies.
t0=$(date +%s)
log "building livekit-sip $LIVEKIT_SIP_VERSION"
sip_mod="$build_dir/livekit-sip"
mkdir -p "$sip_mod"
cat > "$sip_mod/go.mod" <<GOMOD
module practiceline.local/stackbuild

go $GO_MIN_VERSION

require $LIVEKIT_SIP_MODULE $LIVEKIT_SIP_VERSION
GOMOD
rm -f "$sip_mod/go.sum"
# Built beside and renamed into place: running stacks keep executing the old file.
(cd "$sip_mod" && "$go_bin" build -o "$build_dir/livekit-sip.new" "$LIVEKIT_SIP_PACKAGE")
mv -f "$build_dir/livekit-sip.new" "$bin_dir/livekit-sip"
log "livekit-sip built in $(( $(date +%s) - t0 ))s"

"$bin_dir/livekit-server" --version >&2
printf '%s' "$want" > "$stamp"
link_bin
fi

# --- SeaweedFS (S3-compatible server for the storage tests) -------------------------------
GO_BIN="$go_bin" bash "$here/install_seaweedfs.sh"
log "installed ($want, cached in $bin_dir) in $(( $(date +%s) - started ))s"
