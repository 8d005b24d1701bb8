#!/usr/bin/env bash
# Installs what the browser and PostgreSQL tests need (Debian's chromium and postgresql),
# when we are root on a Debian-like machine and they are missing. Never fails the build:
# the tests that need them skip with the reason printed when they cannot be had.
set -u
need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: cannot install ${need[*]} (not root or no apt-get); those tests will be skipped"
  exit 0
fi
echo "test-deps: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "test-deps: apt-get failed; tests needing ${need[*]} will be skipped"
fi
exit 0
