#!/usr/bin/env bash
# Empty incremental polls against one `feedsync serve` (SQLite store) over
# loopback, with wrk (Debian package wrk): GET /?since=TOKEN where TOKEN is
# the store's latest, the request of a client that is up to date.
#
#   bash bench/emptypoll.sh [BINARY...]
#
# Each BINARY (default: one built from this tree) serves a fresh store of
# ITEMS items (default 1000) on 127.0.0.1; wrk runs THREADS threads and
# CONNS connections (default 2 and 50) for DURATION (default 10s), once
# without and once with If-None-Match (the poll of a client that keeps the
# ETag, answered 304). Give two binaries (an older build first) to compare
# them in one run. The load average is printed before and after each run:
# the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-1000}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
PORT=${PORT:-18431}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  go build -o "$work/feedsync" ./cmd/feedsync
  bins=("$work/feedsync")
fi

# The store: ITEMS items in one feed, merged in one transaction.
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>bench</title>'
  for i in $(seq 1 "$ITEMS"); do
    echo "<item><title>item $i</title><sx:sync id=\"item-$i\" updates=\"1\"><sx:history sequence=\"1\" when=\"2026-01-01T00:00:00Z\" by=\"bench\"/></sx:sync></item>"
  done
  echo '</channel></rss>'
} > "$work/items.xml"

for bin in "${bins[@]}"; do
  rm -f "$work"/store.db*
  "$bin" merge --store "sqlite:$work/store.db" "$work/items.xml" >/dev/null 2>&1
  "$bin" serve --store "sqlite:$work/store.db" --addr "127.0.0.1:$PORT" 2>"$work/serve.log" &
  server=$!
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.1
  done
  headers=$(curl -fs -D - -o /dev/null "http://127.0.0.1:$PORT/")
  token=$(printf '%s' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="feedsync-token"{print $2}')
  url="http://127.0.0.1:$PORT/?since=$token"
  etag=$(curl -fs -D - -o /dev/null "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
  echo "== $bin ($ITEMS items; wrk -t$THREADS -c$CONNS -d$DURATION)"
  for mode in empty-feed 304; do
    args=()
    [ "$mode" = 304 ] && args=(-H "If-None-Match: $etag")
    echo "-- $mode; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${args[@]}" "$url" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
    echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=
done
