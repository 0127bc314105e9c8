# Sourced by install.sh and install_seaweedfs.sh: where the clone, the pinned versions and the
# per-machine cache are. The binaries live outside the clone, so every clone on this machine (a CI
# run's fresh clone included) reuses one build. PRACTICE_LINE_CACHE_DIR moves the cache;
# STACK_DIR=/tmp/x with an empty cache times a cold build.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
stack_dir="${STACK_DIR:-$root/.stack}"
cache_dir="${PRACTICE_LINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/practice-line}"
started=$(date +%s)
