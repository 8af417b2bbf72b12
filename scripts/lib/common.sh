# Sourced by the scripts: where things live, and the Python environment.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Downloads and service data live outside the checkout, reused across runs and clones.
if [ "$(id -u)" = 0 ]; then
  CATALOG_CACHE=${CATALOG_CACHE:-/var/cache/catalog-sync}
else
  CATALOG_CACHE=${CATALOG_CACHE:-$HOME/.cache/catalog-sync}
fi
export CATALOG_CACHE
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export ELASTICSEARCH_URL=${ELASTICSEARCH_URL:-http://127.0.0.1:9200}
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

apt_install() {
  # Debian packages by name; `apt-get update` only when a package is not found.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
  log "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  }
}

ensure_python() {
  # A venv in the checkout with the package installed editable; reinstalled only
  # when setup.cfg changes, so a second run is fast.
  local extras=${1:-}
  command -v python3 >/dev/null || die "python3 is required (3.11+)"
  [ -x "$PY" ] || { log "creating $VENV"; python3 -m venv "$VENV"; }
  local stamp="$VENV/.catalog-installed$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/setup.cfg" -nt "$stamp" ]; then
    log "installing Python dependencies (pip)"
    # setuptools is chatty about package data; show its output only if the install fails.
    local out="$VENV/pip-install.log"
    if ! { "$PY" -m pip install -q --upgrade pip && "$PY" -m pip install -q -e "$ROOT$extras"; } >"$out" 2>&1; then
      cat "$out" >&2; die "pip install failed (log: $out)"
    fi
    touch "$stamp"
  fi
}

url_port() { local p=${1##*:}; p=${p%%/*}; echo "$p"; }
