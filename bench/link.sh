#!/usr/bin/env bash
# bench/link.sh - the WooCommerce link, the job queue and loyalty under load
# (method and figures: bench/LINK.md). bench/run calls it at the end; it
# also runs on its own (after make).
#
# Starts its own private PostgreSQL (scripts/pg-local, fsync and
# synchronous_commit on), migrates it, starts the service on 127.0.0.1 and
# measures each service figure side by side, in the same run, with pgbench
# running the same SQL at the same client count (wrk -t2 -c32 | pgbench -c32
# -j2 -M prepared, the same seconds; the two alternate in LINK_ROUNDS short
# rounds after a warm-up of each, so that load others put on the shared
# machine hits both alike):
#
#   1. webhook ingest: signed order.updated deliveries (~3.2 KB bodies,
#      WooCommerce's json_encode escaping, no body sent twice) against
#      bench/ingest_receive.sql (the receiver's statements); target >= 0.6x.
#      Then the acknowledgement latency while the shop's API is down (its
#      URL a closed port, 500 order fetches failing against it) and the job
#      workers run: paced (8 connections pausing 20 ms, with pgbench -R at
#      the same rate for scale) and saturated (32); target p99 < 50 ms.
#   2. jobs: LINK_NOOP_JOBS 'noop' jobs inserted in one statement, time to
#      drain (target 5,000 jobs/s); LINK_FETCH_JOBS 'woo.order_fetch' jobs
#      against tests/fakes/fake_woo.py (a Python server: the figure is
#      bounded by it; time-limited), and a few against the fake as shipped.
#   3. loyalty: GET /v1/loyalty/accounts/{id} against bench/loyalty_get.sql
#      (target >= 0.25x) and POST .../adjustments with Idempotency-Key
#      against bench/loyalty_adjust.sql (target >= 0.6x).
# It prints one table with PASS/MISS per target and the service's peak RSS.
# A missed target is MISS, not a failure: the exit status is non-zero only
# when something failed to run. Everything it starts is stopped on exit,
# also on failure and Ctrl-C; every child runs under a time limit. About
# 2.5-3 minutes with the defaults.
#
# Environment (all optional):
#   BENCH_SECONDS=10        measured seconds of each side of a scenario (split
#                           into LINK_ROUNDS alternating rounds, rounded up)
#   BENCH_WARMUP=2          warm-up seconds before each of them
#   BENCH_CONNECTIONS=32    wrk connections = pgbench clients
#   BENCH_LOAD_THREADS=2    wrk -t = pgbench -j
#   BENCH_KEEP=0            1 keeps the temporary directory (logs, outputs)
#   AFTERSALE_BIN           binary to measure (default build/aftersale; copied first)
#   THREADS, DB_POOL_SIZE, DB_ACQUIRE_MS, LOG_LEVEL (default info)
#                           passed to the service as usual
#   WORKERS=2               job workers of the runs that need them (ingest with
#                           the shop down, jobs); the side-by-side runs use
#                           WORKERS=0 (see bench/LINK.md)
#   LINK_NOOP_JOBS=50000    noop jobs
#   LINK_FETCH_JOBS=2000    woo.order_fetch jobs against the fake
#   LINK_STOCK_FETCH_JOBS=60  woo.order_fetch jobs against the unpatched fake (0: skip)
#   LINK_ACCOUNTS=1000      loyalty accounts (15 ledger entries each)
#   LINK_ROUNDS=3           wrk and pgbench alternate this many times per scenario
#   LINK_ACK_CONNECTIONS=8, LINK_ACK_DELAY_MS=20
#                           the paced acknowledgement run: connections, and the
#                           pause of each between a reply and its next delivery
set -euo pipefail
cd "$(dirname "$0")/.."

prog="link"
say() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit 1; }

num() { # NAME VALUE MIN
	if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < $3)); then
		die "$1 must be a whole number >= $3, not '$2'"
	fi
}

DURATION=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-32}
LOAD_THREADS=${BENCH_LOAD_THREADS:-2}
KEEP=${BENCH_KEEP:-0}
BIN=${AFTERSALE_BIN:-build/aftersale}
SVC_LOG_LEVEL=${LOG_LEVEL:-info}
SVC_WORKERS=${WORKERS:-2}
NOOP_JOBS=${LINK_NOOP_JOBS:-50000}
FETCH_JOBS=${LINK_FETCH_JOBS:-2000}
STOCK_FETCH_JOBS=${LINK_STOCK_FETCH_JOBS:-60}
ACCOUNTS=${LINK_ACCOUNTS:-1000}
ROUNDS=${LINK_ROUNDS:-3}
ACK_CONNS=${LINK_ACK_CONNECTIONS:-8}
ACK_DELAY_MS=${LINK_ACK_DELAY_MS:-20}
PY=/usr/bin/python3 # Debian's; the python3 on PATH may be a pyenv one

num BENCH_SECONDS "$DURATION" 1
num BENCH_WARMUP "$WARMUP" 0
num BENCH_CONNECTIONS "$CONNS" 1
num BENCH_LOAD_THREADS "$LOAD_THREADS" 1
num WORKERS "$SVC_WORKERS" 1
num LINK_NOOP_JOBS "$NOOP_JOBS" 1
num LINK_FETCH_JOBS "$FETCH_JOBS" 1
num LINK_STOCK_FETCH_JOBS "$STOCK_FETCH_JOBS" 0
num LINK_ACCOUNTS "$ACCOUNTS" 1
num LINK_ROUNDS "$ROUNDS" 1
num LINK_ACK_CONNECTIONS "$ACK_CONNS" 1
num LINK_ACK_DELAY_MS "$ACK_DELAY_MS" 0
((ACK_CONNS >= LOAD_THREADS)) || die "LINK_ACK_CONNECTIONS must be >= BENCH_LOAD_THREADS"
# Each side of a side-by-side scenario runs ROUNDS times this long.
ROUND_SECONDS=$(((DURATION + ROUNDS - 1) / ROUNDS))
((CONNS >= LOAD_THREADS)) || die "BENCH_CONNECTIONS must be >= BENCH_LOAD_THREADS"

# Targets (issue: benchmark the link, the queue and loyalty).
T_INGEST=0.60     # webhook ingest req/s over pgbench tps
T_ACK_P99=50      # ms, acknowledgement p99 with the shop's API down
T_NOOP=5000       # noop jobs/s
T_LOY_READ=0.25   # GET account req/s over pgbench tps
T_LOY_WRITE=0.60  # POST adjustment req/s over pgbench tps

for tool in wrk pgbench psql jq openssl curl awk timeout "$PY"; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps installs it)"
done
[[ -x "$BIN" ]] || die "$BIN is missing: run make first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-link.XXXXXX")
chmod 0711 "$tmp" # the postgres user must reach $tmp/pg when we are root
pgdir=$tmp/pg
cp "$BIN" "$tmp/aftersale" # a rebuild during the run must not change what is measured
bin_version=$("$tmp/aftersale" version 2>/dev/null || echo "version unknown")
svc_pid='' child='' sampler='' pg_started=0
declare -a fake_pids=()

stop_service() {
	[[ -n "$svc_pid" ]] || return 0
	kill -TERM "$svc_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$svc_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$svc_pid" 2>/dev/null || true
	wait "$svc_pid" 2>/dev/null || true
	svc_pid=''
}

stop_fakes() {
	local p
	for p in "${fake_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${fake_pids[@]}"; do
		for ((i = 0; i < 40; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	fake_pids=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$child" ]]; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	if [[ -n "$sampler" ]]; then
		kill -TERM "$sampler" 2>/dev/null || true
		wait "$sampler" 2>/dev/null || true
	fi
	stop_service
	stop_fakes
	if ((pg_started)); then
		scripts/pg-local stop "$pgdir" >/dev/null 2>&1 || say "could not stop PostgreSQL in $pgdir"
	fi
	if [[ "$KEEP" == 1 ]] || ((rc != 0 && rc != 130 && rc != 143)); then
		say "logs and outputs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_child OUTFILE LIMIT_S COMMAND...: run in the background under a time
# limit, output to OUTFILE, and wait (a signal stops the script at once and
# cleanup() stops the command).
run_child() {
	local rc=0 out=$1 limit=$2
	shift 2
	timeout -k 5 "$limit" "$@" >"$out" 2>&1 &
	child=$!
	wait "$child" || rc=$?
	child=''
	return "$rc"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if ! port_in_use "$p"; then
			printf '%s\n' "$p"
			return
		fi
	done
	die "no free port found"
}

fmt_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
q() { psql -X -q -tA -v ON_ERROR_STOP=1 "$db_url" "$@"; }

# ---------------------------------------------------------------- PostgreSQL
say "starting a private PostgreSQL in $pgdir"
pg_started=1
db_url=$(scripts/pg-local start "$pgdir" 2>"$tmp/pg-local.log" | tail -n 1) || {
	cat "$tmp/pg-local.log" >&2
	die "scripts/pg-local start failed"
}
[[ "$db_url" == postgresql://* ]] || die "unexpected DATABASE_URL from pg-local: $db_url"
secret_key=$(openssl rand -hex 32)
admin_token=$(openssl rand -hex 24)
DATABASE_URL=$db_url AFTERSALE_SECRET_KEY=$secret_key "$tmp/aftersale" migrate >"$tmp/migrate.log" 2>&1 || {
	cat "$tmp/migrate.log" >&2
	die "aftersale migrate failed"
}

# ------------------------------------------------------------------- service
port='' svc_log='' svc_threads=''
# start_service LOGFILE WORKERS: start the service, wait for /healthz.
start_service() {
	local log=$1 workers=$2 i
	port=$(pick_port)
	svc_log=$log
	env DATABASE_URL="$db_url" BIND=127.0.0.1 PORT="$port" ADMIN_TOKEN="$admin_token" \
		AFTERSALE_SECRET_KEY="$secret_key" LOG_LEVEL="$SVC_LOG_LEVEL" SHUTDOWN_GRACE_S=2 \
		WORKERS="$workers" ${THREADS:+THREADS="$THREADS"} ${DB_POOL_SIZE:+DB_POOL_SIZE="$DB_POOL_SIZE"} \
		${DB_ACQUIRE_MS:+DB_ACQUIRE_MS="$DB_ACQUIRE_MS"} \
		"$tmp/aftersale" serve >"$log" 2>&1 &
	svc_pid=$!
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$svc_pid" 2>/dev/null; then
			tail -n 20 "$log" >&2
			svc_pid=''
			die "the service exited at start-up (log above)"
		fi
		if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null; then
			svc_threads=$(grep -m1 '"msg":"listening"' "$log" | jq -r '.threads // empty' 2>/dev/null || true)
			return 0
		fi
		sleep 0.05
	done
	die "the service did not answer /healthz within 10 s (log: $log)"
}
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$svc_pid/status" 2>/dev/null; }

# ----------------------------------------------------------------------- wrk
# The ingest runs take consecutive slices of the generated deliveries, each
# big enough for 6,000 req/s over the run: no body is ever sent twice.
ingest_cursor=0
ingest_slice() { local n=$((6000 * $1)); ((n >= 12000)) || n=12000; printf '%s\n' "$n"; }

# wrk_run NAME SECONDS CONNECTIONS PATH SCRIPT [VAR=VALUE...]: one wrk run
# with the variables in its environment; sets W_rps W_p50 W_p99 (ms)
# W_requests W_duration_us W_errors W_wrapped, and W_spread (connections per
# HTTP thread, one second into the run).
wrk_run() {
	local name=$1 secs=$2 conns=$3 path=$4 script=$5 out=$tmp/wrk-$1.txt line kv n
	local -A w=()
	shift 5
	if [[ "$script" == bench/ingest_wrk.lua ]]; then
		n=$(ingest_slice "$secs")
		set -- "$@" LINK_FIRST="$ingest_cursor" LINK_COUNT="$n"
		ingest_cursor=$((ingest_cursor + n))
		((ingest_cursor <= ingest_rows)) || die "internal: ingest slices exceed the generated rows"
	fi
	W_l0=$(wc -l <"$svc_log")
	# One second in (or half-way), note how the connections are spread over the
	# HTTP threads.
	(sleep "$(awk -v s="$secs" 'BEGIN { print (s > 2 ? 1 : s / 2) }')" && conn_spread >"$tmp/spread-$name.txt") &
	sampler=$!
	# LINK_RUN: unique per run (bench/loyalty_wrk.lua builds Idempotency-Keys from it).
	run_child "$out" $((secs + 60)) env "$@" LINK_RUN="$name.$RANDOM$RANDOM" \
		wrk -t"$LOAD_THREADS" -c"$conns" -d"${secs}s" \
		--latency -s "$script" "http://127.0.0.1:$port$path" ||
		{ cat "$out" >&2; die "wrk for $name failed"; }
	W_l1=$(wc -l <"$svc_log")
	wait "$sampler" 2>/dev/null || true
	sampler=''
	W_spread=$(cat "$tmp/spread-$name.txt" 2>/dev/null || true)
	kill -0 "$svc_pid" 2>/dev/null || { tail -n 5 "$svc_log" >&2; die "the service is gone after $name"; }
	line=$(grep -m1 '^BENCH ' "$out") || { cat "$out" >&2; die "no result line from wrk for $name"; }
	for kv in ${line#BENCH }; do w[${kv%%=*}]=${kv#*=}; done
	((w[requests] > 0)) || { cat "$out" >&2; die "wrk made no requests for $name"; }
	W_requests=${w[requests]}
	W_duration_us=${w[duration_us]}
	W_rps=$(awk -v n="${w[requests]}" -v d="${w[duration_us]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
	W_p50=$(fmt_ms "${w[p50_us]}")
	W_p99=$(fmt_ms "${w[p99_us]}")
	W_wrapped=${w[wrapped]:-0}
	W_errors=$((w[errors_status] + w[errors_connect] + w[errors_read] + w[errors_write] + w[errors_timeout]))
	if ((W_errors > 0)); then
		say "WARNING: $name: ${w[errors_status]} responses >= 400, socket errors" \
			"connect ${w[errors_connect]} read ${w[errors_read]} write ${w[errors_write]}" \
			"timeout ${w[errors_timeout]} (of ${w[requests]})"
	fi
	((W_wrapped == 0)) || say "WARNING: $name: bodies reused ($W_wrapped times): the slice was too small"
	say "$name: $W_rps req/s, p50 $W_p50 ms, p99 $W_p99 ms (load average $(cut -d' ' -f1 /proc/loadavg); connections per HTTP thread: $W_spread)"
}

# conn_spread: the client connections each HTTP thread of the service holds
# now, busiest first. libmicrohttpd's thread pool gives every thread its own
# epoll set holding the listening socket, its wake-up eventfd and the
# connections that thread accepted; the sockets in each set, minus the
# listening one, are that thread's connections (/proc/PID/fdinfo).
conn_spread() {
	local fd t n
	local -a counts=()
	for fd in /proc/"$svc_pid"/fd/*; do
		[[ "$(readlink "$fd" 2>/dev/null)" == "anon_inode:[eventpoll]" ]] || continue
		n=0
		while read -r t; do
			if [[ "$(readlink "/proc/$svc_pid/fd/$t" 2>/dev/null)" == socket:* ]]; then n=$((n + 1)); fi
		done < <(awk '/^tfd:/ { print $2 }' "/proc/$svc_pid/fdinfo/${fd##*/}" 2>/dev/null)
		counts+=($((n - 1)))
	done
	printf '%s\n' "${counts[@]}" | sort -rn | tr '\n' ' ' | sed 's/ $//'
}

# in_service ROUTE: p50 and p99 (ms) of duration_ms in the request log lines
# of the last wrk run (inside the service: from the parsed request headers to
# the reply sent); "- -" without request logs (LOG_LEVEL above info).
in_service() {
	sed -n "$((W_l0 + 1)),${W_l1}p" "$svc_log" | grep -F "\"route\":\"$1\"" |
		sed -n 's/.*"duration_ms":\([0-9.eE+-]*\).*/\1/p' | sort -g |
		awk '{ v[NR] = $1 }
		     function pct(p,  i) { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; return v[i] }
		     END { if (NR == 0) print "- -"; else printf "%.2f %.2f\n", pct(50), pct(99) }'
}

# ------------------------------------------------------------------- pgbench
# pgbench_once NAME SECONDS LOG ARGS...: one run (LOG=1: per-transaction log,
# 10% sample, prefix $tmp/pglog-NAME); sets P_tps P_failed.
pgbench_once() {
	local name=$1 secs=$2 log=$3 out=$tmp/pgbench-$1.txt
	local -a extra=()
	shift 3
	((log == 0)) || extra=(-l --sampling-rate=0.1 --log-prefix="$tmp/pglog-$name")
	run_child "$out" $((secs + 60)) pgbench -n -c "${PGB_CONNS:-$CONNS}" -j "$LOAD_THREADS" -T "$secs" -M prepared \
		"${extra[@]}" "$@" "$db_url" || { cat "$out" >&2; die "pgbench for $name failed"; }
	P_tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
	[[ -n "$P_tps" ]] || { cat "$out" >&2; die "no tps line from pgbench for $name"; }
	P_tps=$(awk -v t="$P_tps" 'BEGIN { printf "%.0f", t }')
	P_failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	P_failed=${P_failed:-0}
	((P_failed == 0)) || say "WARNING: $name: $P_failed failed transactions"
	say "$name (pgbench): $P_tps tps (load average $(cut -d' ' -f1 /proc/loadavg))"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# side_by_side NAME: the service (wrk, SB_WRK = PATH SCRIPT VAR=VALUE...)
# and pgbench (SB_PGB = its arguments) alternately, ROUNDS times
# ROUND_SECONDS each after a warm-up of each. Alternating in short rounds
# pairs each service figure with a pgbench figure taken seconds apart, so
# load that others put on the shared machine hits both alike. Sets S_rps
# (all requests over all rounds' time), S_p50 S_p99 (medians of the rounds),
# S_err, P_tps (mean of the rounds), P_p50 P_p99 (from the merged pgbench
# logs), P_fail, S_ratio (median of the rounds' service/pgbench ratios) and
# S_ratios (each round's).
side_by_side() {
	local name=$1 r req=0 dur=0
	local -a p50s=() p99s=() ratios=() tpss=()
	S_err=0 P_fail=0
	if ((WARMUP > 0)); then
		wrk_run "$name-warmup" "$WARMUP" "$CONNS" "${SB_WRK[@]}"
		pgbench_once "$name-warmup" "$WARMUP" 0 "${SB_PGB[@]}"
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		wrk_run "$name-r$r" "$ROUND_SECONDS" "$CONNS" "${SB_WRK[@]}"
		((r > 1)) || S_spread=$W_spread
		req=$((req + W_requests)) dur=$((dur + W_duration_us)) S_err=$((S_err + W_errors))
		p50s+=("$W_p50") p99s+=("$W_p99")
		pgbench_once "$name-r$r" "$ROUND_SECONDS" 1 "${SB_PGB[@]}"
		P_fail=$((P_fail + P_failed))
		tpss+=("$P_tps")
		ratios+=("$(ratio "$W_rps" "$P_tps")")
	done
	S_rps=$(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
	S_p50=$(median "${p50s[@]}") S_p99=$(median "${p99s[@]}")
	P_tps=$(printf '%s\n' "${tpss[@]}" | awk '{ s += $1 } END { printf "%.0f", s / NR }')
	S_ratio=$(median "${ratios[@]}") S_ratios="${ratios[*]}"
	read -r P_p50 P_p99 < <(cat "$tmp/pglog-$name"-r*.* | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n |
		awk '{ v[NR] = $1 }
		     function pct(p,  i) { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; return v[i] }
		     END { if (NR == 0) print "nan nan"; else printf "%.2f %.2f\n", pct(50) / 1000, pct(99) / 1000 }')
	rm -f "$tmp/pglog-$name"-r*.*
	say "$name: service $S_rps req/s, pgbench $P_tps tps, ratio per round: $S_ratios (median $S_ratio)"
}

# wait_jobs NAME SHOP KIND LIMIT_S: poll until no job of that kind and shop is
# pending or running (or LIMIT_S passed); sets J_left.
wait_jobs() {
	local name=$1 shop=$2 kind=$3 limit=$4 t0=$SECONDS
	while :; do
		J_left=$(q -c "SELECT count(*) FROM jobs WHERE shop_id = $shop AND kind = '$kind' AND status IN ('pending', 'running')")
		((J_left == 0)) && return 0
		if ((SECONDS - t0 >= limit)); then
			say "WARNING: $name: $J_left jobs still waiting after ${limit}s"
			return 0
		fi
		sleep 0.25
	done
}

# ------------------------------------------------------------------- set-up
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
say "machine: $(nproc) cores, load average $load_at_start"
start_service "$tmp/service-w0.log" 0
closed_port=$(pick_port) # nothing listens there: the shop whose API is down
shop=$(curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/v1/shops" \
	-H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
	-d '{"name":"Link bench","url":"http://127.0.0.1:'"$closed_port"'","consumer_key":"ck_bench","consumer_secret":"cs_bench","currency":"EUR","timezone":"Europe/Bratislava"}') ||
	die "POST /v1/shops failed (log: $svc_log)"
api_key=$(jq -er .api_key <<<"$shop") || die "no api_key in the POST /v1/shops reply"
shop_id=$(jq -er .id <<<"$shop") || die "no id in the POST /v1/shops reply"
webhook_secret=$(jq -er .webhook_secret <<<"$shop") || die "no webhook_secret in the POST /v1/shops reply"
key_hash='\x'$(printf '%s' "$api_key" | openssl dgst -sha256 -r | cut -d' ' -f1)

# Ingest bodies: a slice for every ingest run (side by side: warm-up and
# rounds; with the shop down: warm-up, saturated, paced), plus a probe.
ingest_rows=0
for secs in $((WARMUP > 0 ? WARMUP : 0)) $(for ((r = 0; r < ROUNDS; r++)); do echo "$ROUND_SECONDS"; done) \
	$((WARMUP > 0 ? WARMUP : 0)) "$DURATION" "$DURATION"; do
	((secs == 0)) || ingest_rows=$((ingest_rows + $(ingest_slice "$secs")))
done
first_resource=100000000
say "generating $ingest_rows signed order.updated deliveries"
"$PY" - "$webhook_secret" "$tmp/ingest-templates.txt" "$tmp/ingest-rows.txt" $((ingest_rows + 1)) "$first_resource" \
	"$tmp/ingest-pgbench-body" >"$tmp/ingest-gen.txt" <<'PY' || die "generating the deliveries failed"
# Orders as WooCommerce 8 sends them in an order.updated delivery, encoded
# like PHP's json_encode (compact, "\/" and "\uXXXX" escapes). 8 templates
# (1 or 2 line items, names with diacritics), cut where the order id goes.
import base64, hashlib, hmac, json, random, sys

def php_json(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")

HOME = "https://shop.example.sk"
PEOPLE = [("Zuzana", "Kov\u00e1\u010dov\u00e1", "Ko\u0161ice", "SK", "040 01"),
          ("J\u00fcrgen", "M\u00fcller", "M\u00fcnchen", "DE", "80331"),
          ("Ann", "O'Neil", "Dublin", "IE", "D02 X285"),
          ("Fran\u00e7ois", "L\u00e9vesque", "Lyon", "FR", "69002"),
          ("Petra", "Nov\u00e1kov\u00e1", "Brno", "CZ", "602 00"),
          ("Luk\u00e1\u0161", "Hor\u00e1k", "Bratislava", "SK", "811 01"),
          ("Marta", "Wi\u015bniewska", "Krak\u00f3w", "PL", "31-001"),
          ("Erik", "Lindstr\u00f6m", "G\u00f6teborg", "SE", "411 01")]
PRODUCTS = [(31, "Keramick\u00fd hrn\u010dek \u201eR\u00e1no\u201c 350 ml", "12.90"),
            (32, "Ľanov\u00e9 obrusy \u2013 sada 2 ks", "34.50"),
            (33, "K\u00e1vov\u00e1 zmes Espresso 1 kg", "21.00"),
            (34, "Drevená doska na kr\u00e1janie (buk)", "18.40"),
            (35, "Svie\u010dka s\u00f3jov\u00e1 / levanduľa", "9.90")]

def order(k, rnd):
    first, last, city, country, pc = PEOPLE[k]
    email = "%s.%s@example.com" % (first.lower().encode("ascii", "ignore").decode(), k)
    items, item_id, total = [], 1000 + 10 * k, 0.0
    for j, (pid, name, price) in enumerate(rnd.sample(PRODUCTS, 1 + k % 2)):
        qty = 1 + (j + k) % 3
        line = float(price) * qty
        total += line
        item_id += 1
        items.append({"id": item_id, "name": name, "product_id": pid, "variation_id": 0,
                      "quantity": qty, "tax_class": "", "subtotal": "%.2f" % line,
                      "subtotal_tax": "0.00", "total": "%.2f" % line, "total_tax": "0.00",
                      "taxes": [], "meta_data": [{"id": 9000 + item_id, "key": "_reduced_stock",
                                                   "value": str(qty), "display_key": "_reduced_stock",
                                                   "display_value": str(qty)}],
                      "sku": "SKU-%d" % pid, "price": float(price),
                      "image": {"id": "%d" % (200 + pid),
                                "src": "%s/wp-content/uploads/2026/10/p%d-600x600.jpg" % (HOME, pid)},
                      "parent_name": None})
    date = "2026-11-%02dT%02d:%02d:%02d" % (1 + k, 8 + k, 11 * k % 60, 7 * k % 60)
    addr = {"first_name": first, "last_name": last, "company": "",
            "address_1": "Hlavn\u00e1 %d" % (10 + k), "address_2": "", "city": city,
            "state": "", "postcode": pc, "country": country}
    return {
        "id": "@NUM@", "parent_id": 0, "status": "processing", "currency": "EUR",
        "version": "8.2.1", "prices_include_tax": True, "date_created": date,
        "date_modified": date, "discount_total": "0.00", "discount_tax": "0.00",
        "shipping_total": "3.90", "shipping_tax": "0.00", "cart_tax": "0.00",
        "total": "%.2f" % (total + 3.9), "total_tax": "0.00", "customer_id": 40 + k,
        "order_key": "wc_order_%013x" % rnd.getrandbits(52),
        "billing": dict(addr, email=email, phone="+421 900 %06d" % (123456 + k)),
        "shipping": dict(addr, phone=""),
        "payment_method": "stripe", "payment_method_title": "Kreditn\u00e1 karta (Stripe)",
        "transaction_id": "pi_3" + "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(24)),
        "customer_ip_address": "185.%d.%d.%d" % (k, 2 * k, 3 * k),
        "customer_user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        "created_via": "checkout",
        "customer_note": "Pros\u00edm doru\u010di\u0165 po 17:00 / please deliver after 5 pm",
        "date_completed": None, "date_paid": date, "cart_hash": "%032x" % rnd.getrandbits(128),
        "number": "@ID@",
        "meta_data": [{"id": 5000 + k, "key": "_stripe_customer_id", "value": "cus_%014x" % rnd.getrandbits(56)},
                      {"id": 5100 + k, "key": "_wc_order_attribution_source_type", "value": "organic"},
                      {"id": 5200 + k, "key": "_wc_order_attribution_referrer", "value": "https://www.google.com/"},
                      {"id": 5300 + k, "key": "is_vat_exempt", "value": "no"}],
        "line_items": items, "tax_lines": [],
        "shipping_lines": [{"id": 1900 + k, "method_title": "Packeta \u2013 v\u00fddajn\u00e9 miesto",
                            "method_id": "flat_rate", "instance_id": "3", "total": "3.90",
                            "total_tax": "0.00", "taxes": [], "meta_data": []}],
        "fee_lines": [], "coupon_lines": [], "refunds": [],
        "payment_url": "%s/pokladna/order-pay/@ID@/?pay_for_order=true&key=wc_order_x" % HOME,
        "is_editable": False, "needs_payment": False, "needs_processing": True,
        "date_created_gmt": date, "date_modified_gmt": date, "date_completed_gmt": None,
        "date_paid_gmt": date, "currency_symbol": "\u20ac",
        "_links": {"self": [{"href": "%s/wp-json/wc/v3/orders/@ID@" % HOME}],
                   "collection": [{"href": "%s/wp-json/wc/v3/orders" % HOME}],
                   "customer": [{"href": "%s/wp-json/wc/v3/customers/%d" % (HOME, 40 + k)}]},
    }

secret, out_tmpl, out_rows, n, first_id, out_pgb = sys.argv[1:7]
n, first_id = int(n), int(first_id)
rnd = random.Random(7)
tmpls = [php_json(order(k, rnd)).replace('"@NUM@"', "@ID@").split("@ID@") for k in range(8)]
with open(out_tmpl, "w") as f:
    for parts in tmpls:
        f.write("\t".join(parts) + "\n")
key = secret.encode()
sizes = 0
with open(out_rows, "w") as f:
    w = f.write
    for i in range(n):
        rid = str(first_id + i)
        body = rid.join(tmpls[i % 8]).encode()
        sizes += len(body)
        w("%d %s %s\n" % (i % 8, rid, base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()))
# pgbench's body: the same bytes as a delivery of the service run.
body = str(first_id + n).join(tmpls[1]).encode()
with open(out_pgb, "w") as f:
    f.write("\\x%s %s\n" % (body.hex(), "\\x" + hashlib.sha256(body).hexdigest()))
print("%d %.0f %d" % (n, sizes / n, len(body)))
PY
read -r _ avg_body _ <"$tmp/ingest-gen.txt"
read -r ingest_body_hex ingest_body_sha <"$tmp/ingest-pgbench-body"

# A delivery from the file is accepted and stored (the signature matches);
# the probe is the extra row after the slices.
read -r k0 id0 sig0 < <(sed -n "$((ingest_rows + 1))p" "$tmp/ingest-rows.txt")
sed -n "$((k0 + 1))p" "$tmp/ingest-templates.txt" | awk -v id="$id0" -F'\t' \
	'{ s = $1; for (i = 2; i <= NF; i++) s = s id $i; printf "%s", s }' >"$tmp/ingest-probe.json"
got=$(curl -fsS --max-time 5 -X POST "http://127.0.0.1:$port/v1/webhooks/woocommerce/$shop_id" \
	-H "X-WC-Webhook-Signature: $sig0" -H 'X-WC-Webhook-Topic: order.updated' \
	-H 'Content-Type: application/json' --data-binary @"$tmp/ingest-probe.json") ||
	die "a generated delivery was refused (log: $svc_log)"
[[ "$(jq -r '.status + " " + (.duplicate | tostring)' <<<"$got")" == "received false" ]] ||
	die "a generated delivery was not stored as received: $got"

# Loyalty: settings with tiers and expiry, accounts with a history.
curl -fsS --max-time 5 -o /dev/null -X PUT "http://127.0.0.1:$port/v1/loyalty/settings" \
	-H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
	-d '{"expiry_months":12,"bonuses":{"signup":50,"review":20,"birthday":100},"tiers":[{"name":"Silver","threshold":500,"multiplier":"1.1"},{"name":"Gold","threshold":1500,"multiplier":"1.25"},{"name":"Platinum","threshold":5000,"multiplier":"1.5"}]}' ||
	die "PUT /v1/loyalty/settings failed"
read -r acct_first acct_last < <(q -v shop_id="$shop_id" -v accounts="$ACCOUNTS" -f bench/loyalty_setup.sql | tail -n 1)
[[ "$acct_first" =~ ^[0-9]+$ && "$acct_last" =~ ^[0-9]+$ ]] || die "bench/loyalty_setup.sql made no accounts"
curl -fsS --max-time 5 -o /dev/null -H "Authorization: Bearer $api_key" \
	"http://127.0.0.1:$port/v1/loyalty/accounts/$acct_last" || die "GET of a loyalty account failed"
loy_entry=$(curl -fsS --max-time 5 -X POST "http://127.0.0.1:$port/v1/loyalty/accounts/$acct_first/adjustments" \
	-H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -H 'Idempotency-Key: link-probe' \
	-d '{"points":1,"reason":"bench"}') || die "POST of a loyalty adjustment failed"
jq -e '.delta == 1' >/dev/null <<<"$loy_entry" || die "unexpected adjustment reply: $loy_entry"
loy_req_hash=$(q -c "SELECT request_hash FROM idempotency_keys WHERE shop_id = $shop_id AND key = 'link-probe'")

say "service: THREADS=${svc_threads:-?} WORKERS=0 LOG_LEVEL=$SVC_LOG_LEVEL; load: $CONNS connections, $LOAD_THREADS threads, $ROUNDS x ${ROUND_SECONDS}s each side after ${WARMUP}s warm-up; bodies: mean $avg_body bytes"

# --------------------------------------------------- 1. webhook ingest (ratio)
hook_path=/v1/webhooks/woocommerce/$shop_id
ingest_env=(LINK_TEMPLATES="$tmp/ingest-templates.txt" LINK_ROWS="$tmp/ingest-rows.txt" LINK_THREADS="$LOAD_THREADS")
SB_WRK=("$hook_path" bench/ingest_wrk.lua "${ingest_env[@]}")
SB_PGB=(-f bench/ingest_receive.sql -D shop_id="$shop_id" -D body="$ingest_body_hex" -D sha="$ingest_body_sha"
	-D delivery=0123456789abcdef0123456789abcdef)
side_by_side ingest
I_rps=$S_rps I_p50=$S_p50 I_p99=$S_p99 I_err=$S_err I_tps=$P_tps I_pp50=$P_p50 I_pp99=$P_p99 I_pfail=$P_fail
I_ratio=$S_ratio I_ratios=$S_ratios
# Every answered delivery was stored as new (not a duplicate, not failed):
# the service's rows have resource ids from the generated range.
stored=$(q -c "SELECT count(*) FROM webhook_deliveries WHERE shop_id = $shop_id AND status = 'received' AND resource_id BETWEEN $first_resource AND $((first_resource + ingest_rows))")
sent=$(cat "$tmp"/wrk-ingest-*.txt | sed -n 's/^BENCH requests=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
((stored >= sent)) || say "WARNING: ingest: $sent deliveries answered, only $stored stored as new"

# --------------------------------------------------------------- 3. loyalty
loy_env=(BENCH_AUTH="$api_key" LINK_ACCOUNT_FIRST="$acct_first" LINK_ACCOUNT_LAST="$acct_last")
SB_WRK=(/ bench/loyalty_wrk.lua "${loy_env[@]}" LINK_MODE=get)
SB_PGB=(-f bench/loyalty_get.sql -D key_hash="$key_hash" -D shop_id="$shop_id"
	-D account_first="$acct_first" -D account_last="$acct_last")
side_by_side loyalty-get
LG_rps=$S_rps LG_p50=$S_p50 LG_p99=$S_p99 LG_err=$S_err LG_tps=$P_tps LG_pp50=$P_p50 LG_pp99=$P_p99
LG_pfail=$P_fail LG_ratio=$S_ratio LG_ratios=$S_ratios LG_spread=$S_spread

SB_WRK=(/ bench/loyalty_wrk.lua "${loy_env[@]}" LINK_MODE=adjust)
SB_PGB=(-f bench/loyalty_adjust.sql -D key_hash="$key_hash" -D shop_id="$shop_id"
	-D account_first="$acct_first" -D account_last="$acct_last" -D req_hash="$loy_req_hash"
	-D entry="$loy_entry" -D route="accounts/$acct_first/adjustments")
side_by_side loyalty-adjust
LA_rps=$S_rps LA_p50=$S_p50 LA_p99=$S_p99 LA_err=$S_err LA_tps=$P_tps LA_pp50=$P_p50 LA_pp99=$P_p99
LA_pfail=$P_fail LA_ratio=$S_ratio LA_ratios=$S_ratios
sent=$(cat "$tmp"/wrk-loyalty-adjust-*.txt | sed -n 's/^BENCH requests=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
keys=$(q -c "SELECT count(*) FROM idempotency_keys WHERE shop_id = $shop_id AND key LIKE 'link-%'")
((keys >= sent)) || say "WARNING: loyalty-adjust: $sent adjustments answered, only $keys keys stored"
verify=$(DATABASE_URL=$db_url AFTERSALE_SECRET_KEY=$secret_key "$tmp/aftersale" loyalty verify 2>&1) ||
	say "WARNING: aftersale loyalty verify found problems: $(head -c 300 <<<"$verify")"

rss_w0_kb=$(peak_rss_kb) || true
stop_service
# Error lines in the service log, except the expected ones: order fetches
# for the shop that is down dying after their last attempt.
unexpected_errors() { grep '"level":"error"' "$1" | grep -vc '"msg":"job dead".*"kind":"woo.order_fetch"' || true; }
svc_errors=$(unexpected_errors "$tmp/service-w0.log")

# ------------------------------------- 1b. acknowledgement with the shop down
# The side-by-side runs left their woo.delivery jobs pending (no workers);
# they would only add a backlog of unknown size here.
q -c "DELETE FROM jobs WHERE kind = 'woo.delivery' AND status = 'pending'" >/dev/null
port_in_use "$closed_port" && die "port $closed_port (the shop that is down) is in use now"
# Outbound work for the shop that is down: order fetches that fail at connect.
q -c "INSERT INTO jobs (shop_id, kind, payload) SELECT $shop_id, 'woo.order_fetch', jsonb_build_object('order_id', g) FROM generate_series(1, 500) g" >/dev/null
start_service "$tmp/service-w$SVC_WORKERS.log" "$SVC_WORKERS"
((WARMUP == 0)) || wrk_run ingest-down-warmup "$WARMUP" "$ACK_CONNS" "$hook_path" bench/ingest_wrk.lua \
	"${ingest_env[@]}" LINK_DELAY_MS="$ACK_DELAY_MS"
# Paced first (normal operation, the shop down): few connections, each
# pausing between a reply and its next delivery. Then saturated.
wrk_run ingest-down-paced "$DURATION" "$ACK_CONNS" "$hook_path" bench/ingest_wrk.lua "${ingest_env[@]}" \
	LINK_DELAY_MS="$ACK_DELAY_MS"
DP_rps=$W_rps DP_p50=$W_p50 DP_p99=$W_p99 DP_err=$W_errors DP_spread=$W_spread
read -r DP_in50 DP_in99 < <(in_service "/v1/webhooks/woocommerce/{shop_id}")
# For scale: the receiver's SQL alone at the same rate and client count, at
# the same time of the run (pgbench -R; latency without its schedule lag).
PGB_CONNS=$ACK_CONNS pgbench_once ack-paced "$DURATION" 1 -R "$DP_rps" -f bench/ingest_receive.sql \
	-D shop_id="$shop_id" -D body="$ingest_body_hex" -D sha="$ingest_body_sha" -D delivery=0123456789abcdef0123456789abcdef
DP_tps=$P_tps DP_pfail=$P_failed
read -r DP_pp50 DP_pp99 < <(cat "$tmp/pglog-ack-paced".* | awk '$3 ~ /^[0-9]+$/ { print $3 - ($7 == "" ? 0 : $7) }' | sort -n |
	awk '{ v[NR] = $1 }
	     function pct(p,  i) { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; return v[i] }
	     END { if (NR == 0) print "nan nan"; else printf "%.2f %.2f\n", pct(50) / 1000, pct(99) / 1000 }')
rm -f "$tmp/pglog-ack-paced".*
processed0=$(q -c "SELECT count(*) FROM webhook_deliveries WHERE shop_id = $shop_id AND status = 'processed'")
wrk_run ingest-down "$DURATION" "$CONNS" "$hook_path" bench/ingest_wrk.lua "${ingest_env[@]}"
D_rps=$W_rps D_p50=$W_p50 D_p99=$W_p99 D_err=$W_errors
read -r D_in50 D_in99 < <(in_service "/v1/webhooks/woocommerce/{shop_id}")
read -r D_processed D_backlog D_fetch_tries < <(q -F ' ' -c "SELECT
	(SELECT count(*) FROM webhook_deliveries WHERE shop_id = $shop_id AND status = 'processed') - $processed0,
	(SELECT count(*) FROM jobs WHERE shop_id = $shop_id AND kind = 'woo.delivery' AND status = 'pending'),
	(SELECT coalesce(sum(attempts), 0) FROM jobs WHERE shop_id = $shop_id AND kind = 'woo.order_fetch')")
D_proc_rate=$(awk -v n="$D_processed" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }')
say "ingest-down: workers processed $D_processed deliveries during the saturated run ($D_proc_rate/s), $D_backlog still pending; $D_fetch_tries failed order-fetch attempts so far"

# ------------------------------------------------------------ 2. jobs: noop
q -c "DELETE FROM jobs WHERE status IN ('pending', 'running') AND kind IN ('woo.delivery', 'woo.order_fetch', 'loyalty.earn', 'loyalty.order')" >/dev/null
noop_commit=$(q -c "BEGIN" -c "INSERT INTO jobs (shop_id, kind) SELECT $shop_id, 'noop' FROM generate_series(1, $NOOP_JOBS)" \
	-c "SELECT pg_notify('aftersale_jobs', '')" -c "COMMIT" -c "SELECT extract(epoch FROM clock_timestamp())" | tail -n 1)
wait_jobs noop "$shop_id" noop $((NOOP_JOBS / 500 + 30))
read -r N_done N_secs < <(q -F ' ' -c "SELECT count(*), round((extract(epoch FROM max(finished_at)) - $noop_commit)::numeric, 3) FROM jobs WHERE kind = 'noop' AND status = 'done'")
N_rate=$(awk -v n="$N_done" -v s="$N_secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
((N_done == NOOP_JOBS)) || say "WARNING: noop: only $N_done of $NOOP_JOBS done"
say "noop: $N_done jobs in ${N_secs}s: $N_rate jobs/s"

# --------------------------------------------- 2b. jobs: woo.order_fetch (fake)
# start_fake NAME PATCHED: the fake shop on a free port; PATCHED=1 turns on
# TCP_NODELAY in its handler (see bench/LINK.md: as shipped, it answers a
# request on a kept-alive connection 40 ms late).
start_fake() {
	local name=$1 patched=$2 p i
	p=$(pick_port)
	"$PY" -c '
import sys
sys.path.insert(0, "tests/fakes")
import fake_woo
if sys.argv[1] == "1":
    fake_woo._Handler.disable_nagle_algorithm = True
sys.exit(fake_woo.main(sys.argv[2:]))' "$patched" --port "$p" --ck ck_link --cs cs_link >"$tmp/fake-$name.log" 2>&1 &
	fake_pids+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening' "$tmp/fake-$name.log" 2>/dev/null && break
		kill -0 "${fake_pids[-1]}" 2>/dev/null || { cat "$tmp/fake-$name.log" >&2; die "fake_woo ($name) exited"; }
		sleep 0.1
	done
	grep -q 'listening' "$tmp/fake-$name.log" || die "fake_woo ($name) did not start"
	FAKE_PORT=$p
}

# fetch_run NAME PATCHED JOBS: a shop on a fresh fake with JOBS orders, JOBS
# woo.order_fetch jobs in one statement; sets F_done F_secs F_rate F_dead.
fetch_run() {
	local name=$1 patched=$2 jobs=$3 shop2 sid commit
	start_fake "$name" "$patched"
	"$PY" - "$FAKE_PORT" "$jobs" >"$tmp/fake-$name-orders.txt" <<'PY' || die "creating orders in the fake failed"
import http.client, json, sys
from concurrent.futures import ThreadPoolExecutor
port, n = int(sys.argv[1]), int(sys.argv[2])
def make(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/_fake/orders", body=json.dumps({
        "status": "processing", "customer_id": 500 + i % 300, "email": "buyer%d@example.com" % (i % 300),
        "first_name": "Ann", "last_name": "Nov\u00e1kov\u00e1"}),
        headers={"Content-Type": "application/json", "Connection": "close"})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200 and r.status != 201:
        raise SystemExit("fake answered %d: %s" % (r.status, body[:200]))
    return json.loads(body)["id"]
with ThreadPoolExecutor(8) as ex:
    ids = list(ex.map(make, range(n)))
print(" ".join(map(str, ids)))
PY
	shop2=$(curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/v1/shops" \
		-H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
		-d '{"name":"Fake '"$name"'","url":"http://127.0.0.1:'"$FAKE_PORT"'","consumer_key":"ck_link","consumer_secret":"cs_link","currency":"EUR","timezone":"UTC"}') ||
		die "POST /v1/shops for the fake failed"
	sid=$(jq -er .id <<<"$shop2")
	commit=$(q -c "BEGIN" -c "INSERT INTO jobs (shop_id, kind, payload) SELECT $sid, 'woo.order_fetch', jsonb_build_object('order_id', o::bigint) FROM unnest(string_to_array('$(cat "$tmp/fake-$name-orders.txt")', ' ')) o" \
		-c "SELECT pg_notify('aftersale_jobs', '')" -c "COMMIT" -c "SELECT extract(epoch FROM clock_timestamp())" | tail -n 1)
	wait_jobs "fetch-$name" "$sid" woo.order_fetch $((DURATION + 5))
	read -r F_done F_secs F_dead F_orders < <(q -F ' ' -c "SELECT count(*) FILTER (WHERE status = 'done'),
		round((extract(epoch FROM max(finished_at)) - $commit)::numeric, 3),
		count(*) FILTER (WHERE status = 'dead' OR attempts > 1),
		(SELECT count(*) FROM orders WHERE shop_id = $sid) FROM jobs WHERE shop_id = $sid AND kind = 'woo.order_fetch'")
	F_rate=$(awk -v n="$F_done" -v s="$F_secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	((F_done == F_orders)) || say "WARNING: fetch-$name: $F_done jobs done but $F_orders orders stored"
	((F_dead == 0)) || say "WARNING: fetch-$name: $F_dead jobs retried or dead"
	((F_done == jobs)) || say "fetch-$name: $F_done of $jobs jobs done within the time limit (the rate counts those)"
	say "fetch-$name: $F_done jobs in ${F_secs}s: $F_rate jobs/s"
}
fetch_run nodelay 1 "$FETCH_JOBS"
FN_done=$F_done FN_secs=$F_secs FN_rate=$F_rate
FS_done='' FS_rate='-' FS_secs='-'
if ((STOCK_FETCH_JOBS > 0)); then
	fetch_run stock 0 "$STOCK_FETCH_JOBS"
	FS_done=$F_done FS_rate=$F_rate FS_secs=$F_secs
fi

rss_w_kb=$(peak_rss_kb) || true
stop_service
stop_fakes
svc_errors=$((svc_errors + $(unexpected_errors "$tmp/service-w$SVC_WORKERS.log")))

# ------------------------------------------------------------------ report
rss_mb=$(awk -v a="${rss_w0_kb:-0}" -v b="${rss_w_kb:-0}" 'BEGIN { printf "%.1f", (a > b ? a : b) / 1024 }')
errs=$((I_err + LG_err + LA_err + D_err + DP_err + I_pfail + LG_pfail + LA_pfail + DP_pfail))

row() { printf '%-44s %7s %7s %8s %7s %6s %-13s %s\n' "$@"; }
echo
echo "aftersale link bench (started $started_at, $(nproc) cores shared by load generators, service and PostgreSQL; load average at start $load_at_start)"
echo "service: $BIN ($bin_version) THREADS=${svc_threads:-?} LOG_LEVEL=$SVC_LOG_LEVEL; WORKERS=0 in the side-by-side runs, $SVC_WORKERS otherwise"
echo "load:    wrk -t$LOAD_THREADS -c$CONNS | pgbench -c $CONNS -j $LOAD_THREADS -M prepared, alternating $ROUNDS x ${ROUND_SECONDS}s each after ${WARMUP}s warm-up each;"
echo "         PostgreSQL 15 over TCP, fsync and synchronous_commit on"
echo
row scenario 'req/s' 'p50 ms' 'p99 ms' 'pgb tps' ratio target verdict
row "webhook ingest, order.updated ~${avg_body} B" "$I_rps" "$I_p50" "$I_p99" "$I_tps" "$I_ratio" ">= ${T_INGEST}x" "$(verdict "$I_ratio >= $T_INGEST")"
row "  pgbench, bench/ingest_receive.sql" "$I_tps" "$I_pp50" "$I_pp99" "" "" "" ""
row "GET /v1/loyalty/accounts/{id}" "$LG_rps" "$LG_p50" "$LG_p99" "$LG_tps" "$LG_ratio" ">= ${T_LOY_READ}x" "$(verdict "$LG_ratio >= $T_LOY_READ")"
row "  pgbench, bench/loyalty_get.sql" "$LG_tps" "$LG_pp50" "$LG_pp99" "" "" "" ""
row "POST .../adjustments, Idempotency-Key" "$LA_rps" "$LA_p50" "$LA_p99" "$LA_tps" "$LA_ratio" ">= ${T_LOY_WRITE}x" "$(verdict "$LA_ratio >= $T_LOY_WRITE")"
row "  pgbench, bench/loyalty_adjust.sql" "$LA_tps" "$LA_pp50" "$LA_pp99" "" "" "" ""
row "webhook ack, shop down, -c$ACK_CONNS +${ACK_DELAY_MS}ms pause" "$DP_rps" "$DP_p50" "$DP_p99" - - "p99 < ${T_ACK_P99} ms" "$(verdict "$DP_p99 < $T_ACK_P99")"
row "  inside the service (request log)" - "$DP_in50" "$DP_in99" "" "" "" "threads: $DP_spread"
row "  pgbench -R $DP_rps -c $ACK_CONNS, same SQL" "$DP_tps" "$DP_pp50" "$DP_pp99" "" "" "" ""
row "webhook ack, shop down, -c$CONNS (saturated)" "$D_rps" "$D_p50" "$D_p99" - - "p99 < ${T_ACK_P99} ms" "$(verdict "$D_p99 < $T_ACK_P99")"
row "  inside the service (request log)" - "$D_in50" "$D_in99" "" "" "" ""
echo "ratio: median over the rounds of service req/s / pgbench tps in the same round (rounds: ingest $I_ratios;"
echo "       GET $LG_ratios; adjustments $LA_ratios); service p50/p99: medians of the rounds; pgbench p50/p99:"
echo "       its merged per-transaction logs (10% sample)"
echo "HTTP threads: client connections each held early in the first GET round ($CONNS connections): $LG_spread
shop down: workers processed $D_processed deliveries in the saturated run ($D_proc_rate/s, $D_rps/s arriving), $D_backlog pending at its end"
echo
printf '%-50s %7s %8s  %s\n' 'jobs' 'jobs/s' 'seconds' 'target / note'
printf '%-50s %7s %8s  %s\n' "noop x $NOOP_JOBS (one INSERT, NOTIFY)" "$N_rate" "$N_secs" ">= $T_NOOP/s: $(verdict "$N_rate >= $T_NOOP")"
printf '%-50s %7s %8s  %s\n' "woo.order_fetch, $FN_done of $FETCH_JOBS, 1 shop, fake_woo*" "$FN_rate" "$FN_secs" "no target: bounded by the Python fake; one job per shop at a time"
if [[ -n "$FS_done" ]]; then
	printf '%-50s %7s %8s  %s\n' "woo.order_fetch, $FS_done of $STOCK_FETCH_JOBS, fake_woo as shipped" "$FS_rate" "$FS_secs" "the fake's 40 ms Nagle/delayed-ACK stall per kept-alive request"
fi
echo "* fake_woo (tests/fakes) with TCP_NODELAY on its sockets, set by this script at run time"
echo
echo "peak RSS of the service (VmHWM): $rss_mb MB (WORKERS=0 run $(awk -v k="${rss_w0_kb:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MB, WORKERS=$SVC_WORKERS run $(awk -v k="${rss_w_kb:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MB)"
echo "failed requests or transactions: $errs; unexpected error lines in the service logs: $svc_errors; aftersale loyalty verify: $(grep -q '"problems":0' <<<"$verify" && echo ok || echo PROBLEMS)"
