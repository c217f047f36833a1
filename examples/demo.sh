#!/usr/bin/env bash
# Two endpoints, a laptop and a tablet, share a task list as FeedSync feeds.
# Both edit the same task before they sync: the merge keeps one winner and
# preserves the other version as a conflict; the laptop resolves it, and
# after one more exchange both hold the same feed state.
#
# Run from anywhere: bash examples/demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "Building feedsync..."
(cd "$root" && go build -o "$work/feedsync" ./cmd/feedsync)
export PATH="$work:$PATH"

run() {
  printf '\n$'
  printf ' %q' "$@"
  printf '\n'
  "$@"
}

cat > tasks.jsonl <<'JSON'
{"id": "stamps", "title": "Buy stamps", "description": "10 first-class"}
{"id": "fence", "title": "Fence repair", "description": "Buy posts"}
{"id": "shed", "title": "Paint the shed", "description": "Two coats, green"}
JSON

echo
echo "== The laptop publishes its tasks as a FeedSync feed; the tablet starts from a copy."
run feedsync produce tasks.jsonl --by laptop -o laptop.xml
cp laptop.xml tablet.xml

echo
echo "== Both edit the fence task before syncing; the tablet also deletes the stamps task."
run feedsync update laptop.xml --id fence --by laptop --set description="Buy 4 posts and wire"
run feedsync update tablet.xml --id fence --by tablet --set description="Buy 6 posts"
run feedsync delete tablet.xml --id stamps --by tablet

echo
echo "== The laptop merges the tablet's feed: one winner, the other version kept as a conflict."
run feedsync merge laptop.xml tablet.xml -o laptop.xml --by laptop
run feedsync conflicts laptop.xml

echo
echo "== The laptop resolves it by keeping its own wording, then the tablet merges the laptop's feed."
run feedsync resolve laptop.xml --id fence --keep-from laptop --by laptop
run feedsync merge tablet.xml laptop.xml -o tablet.xml --by tablet
run feedsync conflicts tablet.xml

echo
echo "== Both endpoints now hold the same items:"
run feedsync show tablet.xml
feedsync show --json laptop.xml > laptop.json
feedsync show --json tablet.xml > tablet.json
if cmp -s laptop.json tablet.json; then
  echo
  echo "laptop.xml and tablet.xml agree on every item, winner and conflict."
else
  echo "laptop and tablet differ:" >&2
  diff laptop.json tablet.json >&2 || true
  exit 1
fi
