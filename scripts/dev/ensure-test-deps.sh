#!/bin/sh
# What `npm test` needs from the machine beyond node_modules: Debian's Chromium (browser tests),
# CJK fonts (screenshots of zh-CN pages) and redis-server (the Redis Cluster the storage contract
# starts). Installs what is missing when it can (root with apt-get: one `apt-get update` first);
# otherwise stops at once with the one line to run. Redis and PostgreSQL themselves must be
# running on 127.0.0.1: the tests fail (never skip) without them.
set -eu

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if ! { command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; }; then
  missing="$missing fonts-noto-cjk"
fi
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq $missing >/dev/null
  exit 0
fi

echo "ensure-test-deps: missing$missing; run: sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
