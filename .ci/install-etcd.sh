#!/usr/bin/env bash
# Installs the reference etcd 3.4 (Debian's etcd-server and etcd-client) that pontoon-kv's
# differential tests run against. Idempotent and quiet: does nothing when etcd 3.4 and etcdctl
# are already there. Needs root (apt-get); prints only on failure.
set -euo pipefail

have_34() {
  command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1 || return 1
  # Captured first: `grep -q` on a pipe would end etcd with SIGPIPE, which pipefail reports.
  local version
  version=$(etcd --version 2>/dev/null) || return 1
  [[ $version == *"etcd Version: 3.4."* ]]
}

if have_34; then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-etcd.sh: etcd 3.4 is missing and installing it needs root (apt-get)" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends etcd-server etcd-client; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-etcd.sh: apt-get install etcd-server etcd-client failed" >&2
  exit 1
fi

if ! have_34; then
  echo "install-etcd.sh: installed etcd is not 3.4: $(etcd --version 2>&1 | head -1)" >&2
  exit 1
fi
