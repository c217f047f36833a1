#!/usr/bin/env bash
# feedsync side by side with PouchDB (what users would pick instead): the same
# ~1.5 KB items, server and client on loopback as separate processes, medians
# of alternating runs. Not run by CI.
#
#   bash bench/pouchdb/run.sh [-n ITEMS] [-r RUNS] [-w WORKDIR] [SCENARIO...]
#
# ITEMS defaults to 100000 (-n 10000 for a quick run), RUNS to 3; SCENARIO is
# any of pull, twoway, merge (default: all three).
#
#   pull    initial pull of every item into an empty client: feedsync sync
#           --pull into a new SQLite store vs PouchDB replication into a new
#           leveldb database. Client and server CPU (user+sys), wall time,
#           bytes on the wire both ways, store sizes on disk after the pull.
#   twoway  then 100 items edited on each side (disjoint) and the first
#           two-way sync: feedsync sync (both directions) vs PouchDB sync.
#   merge   feedsync merge of two feeds vs the floor (read both, write one)
#           with feedsync's tokenizer and with encoding/xml's, from the Go
#           benchmarks in merge/bench_test.go (100k items, or 10k with -n
#           below 100000).
#
# PouchDB 9 with the leveldb adapter runs behind express-pouchdb 4 on
# express 4, installed from the npm registry into bench/pouchdb/node_modules
# (npm ci, from package-lock.json). Needs Go, node 20 and npm, GNU time.
# CPU is read from each process's rusage (/usr/bin/time for the clients,
# /proc/PID/stat before and after for the servers); bytes on the wire are
# counted by a relay between client and server (proxy.js). The machine may
# be shared: compare the ratios, which come from the same runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=100000
runs=3
work=${TMPDIR:-/tmp}/feedsync-bench-pouchdb
while getopts "n:r:w:" opt; do
	case $opt in
	n) n=$OPTARG ;;
	r) runs=$OPTARG ;;
	w) work=$OPTARG ;;
	*) sed -n '2,12p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
scenarios=${*:-pull twoway merge}
want() { [[ " $scenarios " == *" $1 "* ]]; }

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# --- setup -----------------------------------------------------------------
mkdir -p "$work"
work=$(cd "$work" && pwd)
results=$work/results.tsv
: >"$results"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# npm writes node_modules/.package-lock.json once an install is complete.
if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
	say "npm ci (PouchDB 9, express-pouchdb 4, express 4)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
say "go build feedsync"
(cd "$root" && go build -o "$work/bin/feedsync" ./cmd/feedsync && go build -o "$work/bin/gen" ./bench/pouchdb/gen)
fs=$work/bin/feedsync
data=$work/data-$n

# result SCENARIO SIDE METRIC VALUE
result() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }

# ticks PID: the CPU time (user+sys) of a running process, in seconds.
ticks() {
	local stat rest
	stat=$(cat "/proc/$1/stat")
	rest=${stat##*) }
	read -r -a f <<<"$rest"
	# After "pid (comm) ", field 3 is state; utime and stime are 14 and 15.
	awk -v u="${f[11]}" -v s="${f[12]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", (u + s) / hz }'
}

# add X Y: X + Y.
add() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f\n", x + y }'; }

# timed FILE CMD...: runs CMD, writing "wall user sys" to FILE.
timed() {
	local out=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$out" "$@"
}

# start NAME CMD...: starts a server in the background and waits for it to
# print its ready line (pouch, proxy) or to accept connections on $port.
port=0
start() {
	local name=$1
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	last_pid=$!
	pids+=("$last_pid")
	for _ in $(seq 600); do
		if grep -q '^ready' "$work/$name.out" 2>/dev/null || grep -q 'msg=serving' "$work/$name.err" 2>/dev/null; then
			return 0
		fi
		kill -0 "$last_pid" 2>/dev/null || { cat "$work/$name.err" >&2; return 1; }
		sleep 0.1
	done
	echo "$name did not start" >&2
	return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

sizeof() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

port_server=${BENCH_PORT:-28461}
port_proxy=$((port_server + 1))

# serve SIDE DIR: starts SIDE's server on DIR (feedsync: a SQLite file) and
# the counting relay in front of it; sets server_pid, proxy_pid, url.
serve() {
	local side=$1 dir=$2
	if [[ $side == feedsync ]]; then
		start "server-$side" "$fs" serve --store "sqlite:$dir/server.db" --addr "127.0.0.1:$port_server"
		url=http://127.0.0.1:$port_proxy/
	else
		start "server-$side" node "$here/server.js" "$dir/pouch-server" "$port_server"
		url=http://127.0.0.1:$port_proxy/bench
	fi
	server_pid=$last_pid
	rm -f "$dir/wire.json"
	start "proxy" node "$here/proxy.js" "$port_proxy" "$port_server" "$dir/wire.json"
	proxy_pid=$last_pid
}

# measure SCENARIO SIDE DIR CMD...: runs the client CMD against the server
# serve started and records its CPU, the server's, wall time and bytes.
measure() {
	local scen=$1 side=$2 dir=$3
	shift 3
	local c0 c1
	c0=$(ticks "$server_pid")
	if ! timed "$dir/time" "$@" >"$dir/$scen-$side.out" 2>"$dir/$scen-$side.err"; then
		say "$side $scen FAILED: $(tail -n 3 "$dir/$scen-$side.err" | tr '\n' ' ')"
		result "$scen" "$side" failed 1
	fi
	c1=$(ticks "$server_pid")
	stop "$proxy_pid"
	stop "$server_pid"
	# GNU time puts "Command exited with non-zero status N" first on a failure.
	read -r wall user sys < <(tail -n 1 "$dir/time")
	result "$scen" "$side" client_cpu "$(add "$user" "$sys")"
	result "$scen" "$side" wall "$wall"
	result "$scen" "$side" server_cpu "$(add "$c1" "-$c0")"
	result "$scen" "$side" wire_bytes "$(node -e 'const w=require(process.argv[1]); console.log(w.up + w.down)' "$dir/wire.json")"
	say "$side $scen: wall ${wall}s client cpu $(add "$user" "$sys")s server cpu $(add "$c1" "-$c0")s; $(tail -n 2 "$dir/$scen-$side.err" "$dir/$scen-$side.out" 2>/dev/null | grep -v '^==>' | grep . | tr '\n' ' ')"
}

# --- data and seeded servers (not measured) -----------------------------------
if want pull || want twoway; then
	if [[ ! -s $data/feed.xml ]]; then
		say "generating $n items"
		"$work/bin/gen" -n "$n" -o "$data"
	fi
	seed=$work/seed-$n
	rm -rf "$seed"
	mkdir -p "$seed"
	say "seeding the feedsync server store (SQLite)"
	"$fs" merge --store "sqlite:$seed/server.db" "$data/feed.xml" >&2
	say "seeding the PouchDB server database (leveldb)"
	node "$here/load.js" "$seed/pouch-server" "$data/feed.jsonl"
	result store feedsync server_store "$(sizeof "$seed"/server.db*)"
	result store pouchdb server_store "$(sizeof "$seed/pouch-server")"
	item_bytes=$(($(stat -c %s "$data/feed.xml") / n))

	for r in $(seq "$runs"); do
		sides=(feedsync pouchdb)
		((r % 2 == 0)) && sides=(pouchdb feedsync)
		for side in "${sides[@]}"; do
			dir=$work/run-$r-$side
			rm -rf "$dir"
			mkdir -p "$dir"
			if [[ $side == feedsync ]]; then
				cp "$seed"/server.db* "$dir/"
				serve feedsync "$dir"
				measure pull feedsync "$dir" "$fs" sync "$url" --store "sqlite:$dir/client.db" --pull --by client
				result pull feedsync client_store "$(sizeof "$dir"/client.db*)"
			else
				cp -r "$seed/pouch-server" "$dir/"
				serve pouchdb "$dir"
				measure pull pouchdb "$dir" node "$here/replicate.js" pull "$url" "$dir/pouch-client"
				result pull pouchdb client_store "$(sizeof "$dir/pouch-client")"
			fi
		done
		want twoway || continue
		for side in "${sides[@]}"; do
			dir=$work/run-$r-$side
			if [[ $side == feedsync ]]; then
				"$fs" merge --store "sqlite:$dir/server.db" "$data/edits-server.xml" >/dev/null 2>&1
				"$fs" merge --store "sqlite:$dir/client.db" "$data/edits-client.xml" >/dev/null 2>&1
				serve feedsync "$dir"
				measure twoway feedsync "$dir" "$fs" sync "$url" --store "sqlite:$dir/client.db" --by client
				if ((r == 1)); then
					"$fs" verify "sqlite:$dir/server.db" "sqlite:$dir/client.db" >&2 || say "feedsync: server and client differ after the two-way sync"
				fi
			else
				node "$here/load.js" "$dir/pouch-server" "$data/edits-server.jsonl"
				node "$here/load.js" "$dir/pouch-client" "$data/edits-client.jsonl"
				serve pouchdb "$dir"
				measure twoway pouchdb "$dir" node "$here/replicate.js" sync "$url" "$dir/pouch-client"
			fi
		done
	done
fi

# --- merge: feedsync merge vs the floor, Go benchmarks ---------------------------
if want merge; then
	size=100000
	((n < 100000)) && size=10000
	say "merge benchmarks, items=$size ($runs alternating runs)"
	(cd "$root" && go test -c -o "$work/bin/merge.test" ./merge/)
	: >"$work/merge-bench.txt"
	for r in $(seq "$runs"); do
		order=(Merge Floor FloorEncodingXML)
		((r % 2 == 0)) && order=(FloorEncodingXML Floor Merge)
		for b in "${order[@]}"; do
			(cd "$root/merge" && "$work/bin/merge.test" -test.run '^$' -test.bench "^Benchmark$b\$/^items=$size\$" -test.benchtime 1x -test.benchmem) >>"$work/merge-bench.txt"
		done
	done
	awk '/^Benchmark(Merge|Floor)/ {
		side = ($1 ~ /Merge/) ? "feedsync-merge" : ($1 ~ /EncodingXML/) ? "floor-encoding-xml" : "floor"
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "ns/op") print "merge\t" side "\twall\t" $i / 1e9
			if ($(i+1) == "cpu-ns/op") print "merge\t" side "\tcpu\t" $i / 1e9
			if ($(i+1) == "peak-live-MB") print "merge\t" side "\tpeak_live_mb\t" $i
		}
	}' "$work/merge-bench.txt" >>"$results"
fi

say "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
node "$here/summary.js" "$results" "$n" "$runs" "${item_bytes:-0}"
