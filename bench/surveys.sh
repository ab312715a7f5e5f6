#!/usr/bin/env bash
# bench/surveys.sh - the three speed targets of surveys (issue 9, "Speed"),
# each beside pgbench running the same SQL in the same run. bench/run calls
# it at the end (BENCH_SURVEYS=0 skips it); it also runs on its own (after
# make). Method and figures: bench/README.md, section "Surveys".
#
# Starts its own private PostgreSQL (scripts/pg-local, fsync and
# synchronous_commit on), migrates it, starts the service on 127.0.0.1
# (WORKERS=0), creates a shop and two surveys with the API, then:
#
#   0. seeds SURVEYS_RESPONSES responses (1,000,000) of survey 1 over the
#      year 2025 with SQL generate_series (bench/surveys_seed.sql), triggers
#      off, and makes the report's aggregates with survey_aggregates_rebuild
#      (sql/019), which computes them from the rows as the triggers would;
#   1. the year's report, GET /v1/surveys/1/report?from=2025-01-01&
#      to=2025-12-31&interval=month, wrk -c SURVEYS_REPORT_CONNECTIONS (1: a
#      merchant opening the page) against pgbench -M extended running the
#      report's statements (bench/surveys_report.sql); p50/p95 of both;
#      target p50 < 50 ms. Checks first that the report's response count
#      equals the rows';
#   2. the one-click answer, POST /s/{token} q=nps&v=8, the first answer of
#      a fresh invitation each time (survey 2), wrk -c BENCH_CONNECTIONS
#      against pgbench -M prepared running the same fifteen statements
#      (bench/surveys_click.sql); target >= 0.7 x pgbench. Checks after that
#      the day counts the triggers kept under that load equal the rows;
#   3. the CSV export of survey 1, GET /v1/surveys/1/responses.csv, on a
#      freshly started service: peak RSS (VmHWM before and after, VmRSS
#      sampled every 0.2 s during the download), bytes/s, and the row count;
#      for scale, psql COPY of the same SELECT as CSV.
#
# In 1 and 2 the service and pgbench alternate in SURVEYS_ROUNDS rounds after
# a warm-up of each, so that load others put on the shared machine hits both
# alike. A missed target is MISS, not a failure: the exit status is non-zero
# only when something failed to run. Everything it starts is stopped on exit,
# also on failure and Ctrl-C; every child runs under a time limit. About
# 2.5 minutes with the defaults on a quiet machine, up to 5 when others load
# it; the seeding is the largest part (40 s to 3 min for a million
# responses); SURVEYS_RESPONSES=100000 makes the whole about a minute.
#
# Environment (all optional):
#   BENCH_SECONDS=10        measured seconds of each side of scenarios 1 and 2
#                           (split into SURVEYS_ROUNDS rounds, rounded up)
#   BENCH_WARMUP=2          warm-up seconds before each side
#   BENCH_CONNECTIONS=32    wrk connections = pgbench clients (one-click)
#   BENCH_LOAD_THREADS=2    wrk -t = pgbench -j
#   BENCH_KEEP=0            1 keeps the temporary directory (logs, outputs)
#   AFTERSALE_BIN           binary to measure (default build/aftersale; copied first)
#   THREADS, DB_POOL_SIZE, DB_ACQUIRE_MS, LOG_LEVEL (default info)   passed to the service
#   SURVEYS_RESPONSES=1000000    responses seeded for the report and the CSV
#   SURVEYS_REPORT_CONNECTIONS=1 wrk connections = pgbench clients (report)
#   SURVEYS_CLICK_POOL=40000     fresh invitations per side for the one-click runs
#   SURVEYS_ROUNDS=3             rounds of (wrk, pgbench) per scenario
set -euo pipefail
cd "$(dirname "$0")/.."

prog="surveys"
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
RESPONSES=${SURVEYS_RESPONSES:-1000000}
REPORT_CONNS=${SURVEYS_REPORT_CONNECTIONS:-1}
POOL=${SURVEYS_CLICK_POOL:-40000}
ROUNDS=${SURVEYS_ROUNDS:-3}
PY=/usr/bin/python3 # Debian's; the python3 on PATH may be a pyenv one

num BENCH_SECONDS "$DURATION" 1
num BENCH_WARMUP "$WARMUP" 0
num BENCH_CONNECTIONS "$CONNS" 1
num BENCH_LOAD_THREADS "$LOAD_THREADS" 1
num SURVEYS_RESPONSES "$RESPONSES" 1000
num SURVEYS_REPORT_CONNECTIONS "$REPORT_CONNS" 1
num SURVEYS_CLICK_POOL "$POOL" 100
num SURVEYS_ROUNDS "$ROUNDS" 1
((CONNS >= LOAD_THREADS)) || die "BENCH_CONNECTIONS must be >= BENCH_LOAD_THREADS"
ROUND_SECONDS=$(((DURATION + ROUNDS - 1) / ROUNDS))
# The report's range: the seeded year.
FROM=2025-01-01 TO=2025-12-31

# Targets (issue 9, Speed).
T_CLICK=0.70      # one-click answers/s over pgbench tps, same SQL
T_REPORT_P50=50   # ms, the year's report by month

for tool in wrk pgbench psql jq openssl curl awk timeout "$PY"; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps installs it)"
done
[[ -x "$BIN" ]] || die "$BIN is missing: run make first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-surveys.XXXXXX")
chmod 0711 "$tmp" # the postgres user must reach $tmp/pg when we are root
pgdir=$tmp/pg
cp "$BIN" "$tmp/aftersale" # a rebuild during the run must not change what is measured
bin_version=$("$tmp/aftersale" version 2>/dev/null || echo "version unknown")
svc_pid='' child='' sampler='' pg_started=0

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

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for p in "$child" "$sampler"; do
		[[ -n "$p" ]] || continue
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_service
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
# median of the values (the mean of the two middle ones for an even count).
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
q() { psql -X -q -tA -v ON_ERROR_STOP=1 "$db_url" "$@"; }
# pcts: p50 and p95 (ms) of the microsecond values on stdin.
pcts() {
	sort -n | awk '{ v[NR] = $1 }
		function pct(p,  i) { i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; return v[i] }
		END { if (NR == 0) print "nan nan"; else printf "%.2f %.2f\n", pct(50) / 1000, pct(95) / 1000 }'
}

# ---------------------------------------------------------------- PostgreSQL
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $(nproc) cores, load average $load_at_start; starting a private PostgreSQL in $pgdir"
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
port='' svc_log=''
start_service() { # LOGFILE
	local log=$1 i
	port=$(pick_port)
	svc_log=$log
	env DATABASE_URL="$db_url" BIND=127.0.0.1 PORT="$port" ADMIN_TOKEN="$admin_token" \
		AFTERSALE_SECRET_KEY="$secret_key" LOG_LEVEL="$SVC_LOG_LEVEL" SHUTDOWN_GRACE_S=2 \
		WORKERS=0 ${THREADS:+THREADS="$THREADS"} ${DB_POOL_SIZE:+DB_POOL_SIZE="$DB_POOL_SIZE"} \
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
			return 0
		fi
		sleep 0.05
	done
	die "the service did not answer /healthz within 10 s (log: $log)"
}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$svc_pid/status" 2>/dev/null; }

# ----------------------------------------------------------------------- wrk
# wrk_run NAME SECONDS CONNECTIONS PATH SCRIPT [VAR=VALUE...]: one wrk run
# with the variables in its environment; sets W_rps W_p50 W_p95 (ms)
# W_requests W_duration_us W_errors W_wrapped.
wrk_run() {
	local name=$1 secs=$2 conns=$3 path=$4 script=$5 out=$tmp/wrk-$1.txt line kv
	local -A w=()
	local threads=$((LOAD_THREADS < conns ? LOAD_THREADS : conns))
	shift 5
	run_child "$out" $((secs + 60)) env "$@" wrk -t"$threads" -c"$conns" -d"${secs}s" \
		--latency -s "$script" "http://127.0.0.1:$port$path" ||
		{ cat "$out" >&2; die "wrk for $name failed"; }
	kill -0 "$svc_pid" 2>/dev/null || { tail -n 5 "$svc_log" >&2; die "the service is gone after $name"; }
	line=$(grep -m1 '^BENCH ' "$out") || { cat "$out" >&2; die "no result line from wrk for $name"; }
	for kv in ${line#BENCH }; do w[${kv%%=*}]=${kv#*=}; done
	((w[requests] > 0)) || { cat "$out" >&2; die "wrk made no requests for $name"; }
	W_requests=${w[requests]} W_duration_us=${w[duration_us]}
	W_rps=$(awk -v n="${w[requests]}" -v d="${w[duration_us]}" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
	W_p50=$(fmt_ms "${w[p50_us]}") W_p95=$(fmt_ms "${w[p95_us]}")
	W_wrapped=${w[wrapped]:-0}
	W_errors=$((w[errors_status] + w[errors_connect] + w[errors_read] + w[errors_write] + w[errors_timeout]))
	if ((W_errors > 0)); then
		say "WARNING: $name: ${w[errors_status]} responses >= 400, socket errors" \
			"connect ${w[errors_connect]} read ${w[errors_read]} write ${w[errors_write]}" \
			"timeout ${w[errors_timeout]} (of ${w[requests]})"
	fi
	((W_wrapped == 0)) || say "WARNING: $name: tokens reused ($W_wrapped times): SURVEYS_CLICK_POOL is too small for this run"
	say "$name: $W_rps req/s, p50 $W_p50 ms, p95 $W_p95 ms (load average $(cut -d' ' -f1 /proc/loadavg))"
}

# pgbench_once NAME SECONDS CLIENTS MODE ARGS...: one run with a
# per-transaction log of PGB_SAMPLING (default 0.1) of the transactions
# (prefix $tmp/pglog-NAME); sets P_tps P_failed.
pgbench_once() {
	local name=$1 secs=$2 clients=$3 mode=$4 out=$tmp/pgbench-$1.txt
	local threads=$((LOAD_THREADS < clients ? LOAD_THREADS : clients))
	shift 4
	run_child "$out" $((secs + 60)) pgbench -n -c "$clients" -j "$threads" -T "$secs" -M "$mode" \
		-l --sampling-rate="${PGB_SAMPLING:-0.1}" --log-prefix="$tmp/pglog-$name" "$@" "$db_url" ||
		{ cat "$out" >&2; die "pgbench for $name failed"; }
	P_tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
	[[ -n "$P_tps" ]] || { cat "$out" >&2; die "no tps line from pgbench for $name"; }
	P_tps=$(awk -v t="$P_tps" 'BEGIN { printf "%.1f", t }')
	P_failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	P_failed=${P_failed:-0}
	((P_failed == 0)) || say "WARNING: $name: $P_failed failed transactions"
	say "$name (pgbench): $P_tps tps (load average $(cut -d' ' -f1 /proc/loadavg))"
}

# side_by_side NAME CONNECTIONS PGMODE: the service (wrk: SB_WRK_FN NAME
# SECONDS CONNECTIONS SB_WRK..., by default wrk_run with SB_WRK = PATH SCRIPT
# VAR=VALUE...) and pgbench (SB_PGB = its arguments) alternately,
# ROUNDS times ROUND_SECONDS each after a warm-up of each. Sets S_rps (all
# requests over all rounds' time), S_p50 S_p95 (medians of the rounds), S_err,
# S_requests, P_tps (mean of the rounds), P_p50 P_p95 (medians of the
# rounds, each from that round's pgbench log), P_fail, S_ratio (median of the rounds' service/pgbench
# ratios) and S_ratios (each round's).
side_by_side() {
	local name=$1 conns=$2 mode=$3 r req=0 dur=0 pp50 pp95
	local -a p50s=() p95s=() pp50s=() pp95s=() ratios=() tpss=()
	S_err=0 P_fail=0
	if ((WARMUP > 0)); then
		"$SB_WRK_FN" "$name-warmup" "$WARMUP" "$conns" "${SB_WRK[@]}"
		pgbench_once "$name-warmup" "$WARMUP" "$conns" "$mode" "${SB_PGB[@]}"
		rm -f "$tmp/pglog-$name-warmup".*
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		"$SB_WRK_FN" "$name-r$r" "$ROUND_SECONDS" "$conns" "${SB_WRK[@]}"
		req=$((req + W_requests)) dur=$((dur + W_duration_us)) S_err=$((S_err + W_errors))
		p50s+=("$W_p50") p95s+=("$W_p95")
		pgbench_once "$name-r$r" "$ROUND_SECONDS" "$conns" "$mode" "${SB_PGB[@]}"
		read -r pp50 pp95 < <(cat "$tmp/pglog-$name-r$r".* | awk '$3 ~ /^[0-9]+$/ { print $3 }' | pcts)
		rm -f "$tmp/pglog-$name-r$r".*
		pp50s+=("$pp50") pp95s+=("$pp95")
		P_fail=$((P_fail + P_failed))
		tpss+=("$P_tps")
		ratios+=("$(ratio "$W_rps" "$P_tps")")
	done
	S_requests=$req
	S_rps=$(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.1f", n / (d / 1e6) }')
	S_p50=$(median "${p50s[@]}") S_p95=$(median "${p95s[@]}")
	P_tps=$(printf '%s\n' "${tpss[@]}" | awk '{ s += $1 } END { printf "%.1f", s / NR }')
	S_ratio=$(median "${ratios[@]}") S_ratios="${ratios[*]}"
	P_p50=$(median "${pp50s[@]}") P_p95=$(median "${pp95s[@]}")
	say "$name: service $S_rps req/s, pgbench $P_tps tps, ratio per round: $S_ratios (median $S_ratio)"
}

# ------------------------------------------------------------------- set-up
start_service "$tmp/service.log"
shop=$(curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/v1/shops" \
	-H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
	-d '{"name":"Surveys bench","url":"https://shop.example","consumer_key":"ck_bench","consumer_secret":"cs_bench","currency":"EUR","timezone":"Europe/Bratislava"}') ||
	die "POST /v1/shops failed (log: $svc_log)"
api_key=$(jq -er .api_key <<<"$shop") || die "no api_key in the POST /v1/shops reply"
shop_id=$(jq -er .id <<<"$shop") || die "no id in the POST /v1/shops reply"
token_secret=$(jq -er .token_secret <<<"$shop") || die "no token_secret in the POST /v1/shops reply"
key_hash='\x'$(printf '%s' "$api_key" | openssl dgst -sha256 -r | cut -d' ' -f1)
questions='[{"id":"nps","kind":"nps","required":true,"label":{"en":"Would you recommend us?"}},
 {"id":"csat","kind":"csat","label":{"en":"How satisfied are you?"}},
 {"id":"why","kind":"text","label":{"en":"Why?"}},
 {"id":"src","kind":"single_choice","other":true,"label":{"en":"Where did you hear of us?"},
  "choices":[{"id":"web","label":{"en":"Web"}},{"id":"friend","label":{"en":"A friend"}},{"id":"ad","label":{"en":"An ad"}}]}]'
new_survey() { # NAME: a survey with the questions above; prints its id
	curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/v1/surveys" \
		-H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
		-d "{\"name\":\"$1\",\"questions\":$questions}" | jq -er .id
}
sid=$(new_survey "Year") || die "POST /v1/surveys failed (log: $svc_log)"
click_sid=$(new_survey "Clicks") || die "POST /v1/surveys failed (log: $svc_log)"

# ------------------------------------------------------------------ 0. seed
say "seeding $RESPONSES responses of survey $sid over $FROM..$TO (triggers off, then survey_aggregates_rebuild)"
t0=$(date +%s.%N)
run_child "$tmp/seed.txt" 900 psql -X -q -v ON_ERROR_STOP=1 -v shop="$shop_id" -v sid="$sid" \
	-v n="$RESPONSES" -f bench/surveys_seed.sql "$db_url" || { cat "$tmp/seed.txt" >&2; die "seeding failed"; }
seed_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
read -r n_resp n_daily n_monthly n_dprod n_mprod < <(q -F ' ' -c "SELECT
	(SELECT count(*) FROM survey_responses WHERE shop_id = $shop_id AND survey_id = $sid),
	(SELECT count(*) FROM survey_daily WHERE shop_id = $shop_id AND survey_id = $sid),
	(SELECT count(*) FROM survey_monthly WHERE shop_id = $shop_id AND survey_id = $sid),
	(SELECT count(*) FROM survey_daily_products WHERE shop_id = $shop_id AND survey_id = $sid),
	(SELECT count(*) FROM survey_monthly_products WHERE shop_id = $shop_id AND survey_id = $sid)")
say "seeded in ${seed_s}s: $n_resp responses; aggregate rows: daily $n_daily, monthly $n_monthly, daily by product $n_dprod, monthly by product $n_mprod"

# ----------------------------------------------------------------- 1. report
report_path="/v1/surveys/$sid/report?from=$FROM&to=$TO&interval=month"
rep=$(curl -fsS --max-time 30 -H "Authorization: Bearer $api_key" "http://127.0.0.1:$port$report_path") ||
	die "GET $report_path failed"
rep_responses=$(jq -er .totals.responses <<<"$rep")
raw_responses=$(q -c "SELECT count(*) FROM survey_responses r JOIN shops sh ON sh.id = r.shop_id
	WHERE r.shop_id = $shop_id AND r.survey_id = $sid
	AND (r.created_at AT TIME ZONE sh.timezone)::date BETWEEN '$FROM' AND '$TO'")
report_check=$([[ "$rep_responses" == "$raw_responses" ]] && echo "equal" || echo "DIFFERENT")
say "report: $rep_responses responses in $FROM..$TO; the rows: $raw_responses ($report_check)"
read -r m1 m2 < <(q -F ' ' -c "SELECT CASE WHEN m1 < m2 THEN m1 ELSE t + 1 END, CASE WHEN m1 < m2 THEN m2 ELSE t + 1 END
	FROM (SELECT '$TO'::date AS t, CASE WHEN date_trunc('month', '$FROM'::date)::date = '$FROM'::date THEN '$FROM'::date
	ELSE (date_trunc('month', '$FROM'::date) + interval '1 month')::date END AS m1,
	date_trunc('month', '$TO'::date + 1)::date AS m2) x")
SB_WRK_FN=wrk_run SB_WRK=("$report_path" bench/wrk.lua BENCH_AUTH="$api_key")
SB_PGB=(-f bench/surveys_report.sql -D key_hash="$key_hash" -D shop_id="$shop_id" -D sid="$sid"
	-D from="$FROM" -D to="$TO" -D interval=month -D m1="$m1" -D m2="$m2")
# Every report transaction logged: a few hundred per round, a 10% sample
# would leave a few dozen for the percentiles.
PGB_SAMPLING=1 side_by_side report "$REPORT_CONNS" extended
R_rps=$S_rps R_p50=$S_p50 R_p95=$S_p95 R_err=$S_err R_tps=$P_tps R_pp50=$P_p50 R_pp95=$P_p95
R_pfail=$P_fail R_ratios=$S_ratios
R_lat=$(ratio "$R_p50" "$R_pp50")

# -------------------------------------------------------------- 2. one click
# Fresh invitations of survey 2 (10 countries, a third first orders, as the
# seed: each answer counts on its country's and customer type's rows of
# today), sent now, answerable for 30 days: POOL for
# wrk (tokens minted here with the shop's token secret, as the service
# mints them) and POOL for pgbench. Inserted with the triggers off and
# counted by survey_aggregates_rebuild, like the seed.
q -c "SET session_replication_role = replica" -c "INSERT INTO survey_invitations (shop_id, survey_id, version,
	order_id, email, first_name, country, first_order, channel, status, due_at, sent_at, expires_at)
	SELECT $shop_id, $click_sid, 1, 9000000 + g, 'click' || g || '@example.com', 'Ann',
	(ARRAY['SK','CZ','AT','DE','PL','HU','SI','HR','IT','FR'])[1 + abs(hashint8extended(g, 1) % 10)],
	abs(hashint8extended(g, 2) % 3) = 0, 'link',
	'sent', now(), now(), now() + interval '30 days' FROM generate_series(1, 2 * $POOL) g" \
	-c "RESET session_replication_role" -c "SELECT survey_aggregates_rebuild($shop_id, $click_sid)" >/dev/null
read -r wrk_first wrk_last pgb_first pgb_last < <(q -F ' ' -c "SELECT
	min(id) FILTER (WHERE order_id <= 9000000 + $POOL), max(id) FILTER (WHERE order_id <= 9000000 + $POOL),
	min(id) FILTER (WHERE order_id > 9000000 + $POOL), max(id) FILTER (WHERE order_id > 9000000 + $POOL)
	FROM survey_invitations WHERE shop_id = $shop_id AND survey_id = $click_sid")
((wrk_last - wrk_first + 1 == POOL && pgb_last - pgb_first + 1 == POOL)) ||
	die "the click invitations did not get consecutive ids"
q -c "SELECT id, email FROM survey_invitations WHERE shop_id = $shop_id AND survey_id = $click_sid
	AND id BETWEEN $wrk_first AND $wrk_last ORDER BY id" >"$tmp/click-invitations.txt"
TOKEN_SECRET=$token_secret "$PY" - "$shop_id" "$tmp/click-invitations.txt" >"$tmp/click-tokens.txt" <<'PY' ||
import base64, hashlib, hmac, json, os, sys, time
secret = os.environ["TOKEN_SECRET"].encode()
shop = int(sys.argv[1])
now = int(time.time())
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
for line in open(sys.argv[2]):
    rid, email = line.rstrip("\n").split("|")
    claims = {"aud": "shop:%d" % shop, "email": email, "exp": now + 7 * 86400, "iat": now,
              "rid": int(rid), "scope": "survey"}
    body = head + b"." + b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret, body, hashlib.sha256).digest())
    print((body + b"." + sig).decode())
PY
	die "minting the click tokens failed"
# The measured request works: one token answered by hand (then not used again).
code=$(curl -sS -o "$tmp/click-check.html" -w '%{http_code}' --max-time 5 -X POST \
	-d 'q=nps&v=8' "http://127.0.0.1:$port/s/$(head -n 1 "$tmp/click-tokens.txt")")
if [[ "$code" != 200 ]] || ! grep -q 'is recorded' "$tmp/click-check.html"; then
	die "POST /s/{token} answered $code, not the thank-you page (log: $svc_log)"
fi
click_cursor=1
click_slice() { # the next slice of tokens for a run of $1 seconds (at most what is left)
	local n=$((3000 * $1)) left=$((POOL - click_cursor))
	((n <= left)) || n=$left
	((n >= LOAD_THREADS)) || die "SURVEYS_CLICK_POOL is used up"
	printf '%s\n' "$n"
}
# click_wrk NAME SECONDS CONNECTIONS: wrk_run through a slice of tokens of
# its own (side_by_side's SB_WRK_FN for the clicks).
click_wrk() {
	local name=$1 secs=$2 conns=$3 n
	n=$(click_slice "$secs")
	wrk_run "$name" "$secs" "$conns" / bench/surveys_click.lua SURVEYS_TOKENS="$tmp/click-tokens.txt" \
		SURVEYS_FIRST="$click_cursor" SURVEYS_COUNT="$n" SURVEYS_THREADS="$LOAD_THREADS"
	click_cursor=$((click_cursor + n))
}
SB_WRK_FN=click_wrk
SB_WRK=()
SB_PGB=(-f bench/surveys_click.sql -D shop_id="$shop_id" -D sid="$click_sid" -D ver=1 -D k=0
	-D first="$pgb_first" -D pool="$POOL" -D clients="$CONNS" -D answers='{"nps": 8}'
	-D facets='{nps,nps=8}' -D other='{}' -D complete=t -D score=8)
side_by_side click "$CONNS" prepared
C_rps=$S_rps C_p50=$S_p50 C_p95=$S_p95 C_err=$S_err C_tps=$P_tps C_pp50=$P_p50 C_pp95=$P_p95
C_pfail=$P_fail C_ratio=$S_ratio C_ratios=$S_ratios C_requests=$S_requests
# Every answer the service acknowledged is a response, and the day counts
# the triggers kept under that load equal the rows.
read -r c_rows c_counted c_wrapped_pgb < <(q -F ' ' -c "SELECT
	(SELECT count(*) FROM survey_responses WHERE shop_id = $shop_id AND survey_id = $click_sid),
	(SELECT coalesce(sum(n), 0) FROM survey_daily WHERE shop_id = $shop_id AND survey_id = $click_sid AND facet = '#response'),
	(SELECT count(*) FROM survey_invitations WHERE shop_id = $shop_id AND survey_id = $click_sid AND status = 'sent'
	   AND id BETWEEN $pgb_first AND $pgb_last)")
click_check=$([[ "$c_rows" == "$c_counted" ]] && echo "equal" || echo "DIFFERENT")
((c_wrapped_pgb > 0)) || say "WARNING: click: pgbench answered every invitation of its pool (some twice): raise SURVEYS_CLICK_POOL"
say "click: $c_rows responses of survey $click_sid, counted by the triggers: $c_counted ($click_check)"
stop_service
svc_errors=$(grep -c '"level":"error"' "$tmp/service.log" || true)

# -------------------------------------------------------------------- 3. CSV
start_service "$tmp/service-csv.log"
curl -fsS -o /dev/null --max-time 10 -H "Authorization: Bearer $api_key" "http://127.0.0.1:$port/v1/surveys/$sid" ||
	die "GET /v1/surveys/$sid failed"
hwm0=$(status_kb VmHWM) rss0=$(status_kb VmRSS)
# VmRSS every 0.2 s while the export runs.
(while kill -0 "$svc_pid" 2>/dev/null; do status_kb VmRSS; sleep 0.2; done) >"$tmp/csv-rss.txt" 2>/dev/null &
sampler=$!
# shellcheck disable=SC2016 # expanded by the inner bash
run_child "$tmp/csv-stats.txt" 600 bash -c 'curl -sS --max-time 590 -H "Authorization: Bearer $1" \
	-w "%{stderr}%{http_code} %{size_download} %{time_starttransfer} %{time_total}\n" "$2" | wc -l >"$3"' \
	_ "$api_key" "http://127.0.0.1:$port/v1/surveys/$sid/responses.csv" "$tmp/csv-lines.txt" ||
	{ cat "$tmp/csv-stats.txt" >&2; die "the CSV export failed"; }
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=''
hwm1=$(status_kb VmHWM)
read -r csv_code csv_bytes csv_ttfb csv_secs <"$tmp/csv-stats.txt"
csv_lines=$(cat "$tmp/csv-lines.txt")
[[ "$csv_code" == 200 ]] || die "the CSV export answered $csv_code"
csv_rss_max=$(sort -n "$tmp/csv-rss.txt" | tail -n 1)
csv_samples=$(wc -l <"$tmp/csv-rss.txt")
csv_rate=$(awk -v b="$csv_bytes" -v s="$csv_secs" 'BEGIN { printf "%.1f", b / s / 1e6 }')
csv_rows_rate=$(awk -v n="$csv_lines" -v s="$csv_secs" 'BEGIN { printf "%.0f", (n - 1) / s }')
csv_check=$([[ "$csv_lines" == "$((n_resp + 1))" ]] && echo "equal" || echo "DIFFERENT")
say "CSV: $csv_bytes bytes, $csv_lines lines in ${csv_secs}s ($csv_rate MB/s); VmHWM $(mb "$hwm0") -> $(mb "$hwm1") MB"
# For scale: PostgreSQL's own CSV of the same SELECT (the export's cursor
# query), COPY to a pipe.
csv_select="SELECT r.id, r.invitation_id, i.order_id, i.email, r.version,
	to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
	to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), r.country,
	CASE WHEN r.first_order THEN 'true' ELSE 'false' END, r.follow_up, coalesce(r.note, ''),
	r.answers::text, r.other::text, r.complete FROM survey_responses r JOIN survey_invitations i
	ON i.shop_id = r.shop_id AND i.id = r.invitation_id WHERE r.shop_id = $shop_id AND r.survey_id = $sid ORDER BY r.id"
t0=$(date +%s.%N)
# shellcheck disable=SC2016 # expanded by the inner bash
run_child "$tmp/copy-bytes.txt" 600 bash -c 'psql -X -q "$1" -c "COPY ($2) TO STDOUT WITH (FORMAT csv)" | wc -c' \
	_ "$db_url" "$csv_select" || { cat "$tmp/copy-bytes.txt" >&2; die "COPY failed"; }
copy_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
copy_bytes=$(cat "$tmp/copy-bytes.txt")
copy_rate=$(awk -v b="$copy_bytes" -v s="$copy_secs" 'BEGIN { printf "%.1f", b / s / 1e6 }')
stop_service
svc_errors=$((svc_errors + $(grep -c '"level":"error"' "$tmp/service-csv.log" || true)))

# ------------------------------------------------------------------ report
errs=$((R_err + R_pfail + C_err + C_pfail))
row() { printf '%-46s %8s %8s %8s %9s %7s %-12s %s\n' "$@"; }
echo
echo "aftersale surveys bench (started $started_at, $(nproc) cores shared by load generators, service and PostgreSQL; load average at start $load_at_start)"
echo "service: $BIN ($bin_version) LOG_LEVEL=$SVC_LOG_LEVEL WORKERS=0; PostgreSQL 15 over TCP, fsync and synchronous_commit on"
echo "data:    $n_resp responses of one survey over $FROM..$TO (NPS, CSAT, text, choice; 10 countries; 50 products), seeded in ${seed_s}s;"
echo "         aggregate rows: $n_daily per day, $n_monthly per month; by product $n_dprod per day, $n_mprod per month"
echo "runs:    wrk -t$LOAD_THREADS | pgbench -j $LOAD_THREADS, alternating $ROUNDS x ${ROUND_SECONDS}s each after ${WARMUP}s warm-up each"
echo
row scenario 'req/s' 'p50 ms' 'p95 ms' 'pgb tps' ratio target verdict
row "one-click answer POST /s/{token}, -c$CONNS" "$C_rps" "$C_p50" "$C_p95" "$C_tps" "$C_ratio" ">= ${T_CLICK}x" "$(verdict "$C_ratio >= $T_CLICK")"
row "  pgbench -M prepared, surveys_click.sql" "$C_tps" "$C_pp50" "$C_pp95" "" "" "" ""
row "year's report by month, -c$REPORT_CONNS" "$R_rps" "$R_p50" "$R_p95" "$R_tps" "$(ratio "$R_rps" "$R_tps")" "p50 < ${T_REPORT_P50} ms" "$(verdict "$R_p50 < $T_REPORT_P50")"
row "  pgbench -M extended, surveys_report.sql" "$R_tps" "$R_pp50" "$R_pp95" "" "" "" ""
echo "ratio: service req/s / pgbench tps in the same round, median of the rounds (one-click: $C_ratios; report: $R_ratios);"
echo "       report p50 service / pgbench: $R_lat; p50/p95: medians of the rounds (wrk; pgbench: its log, every report, 10% of the clicks)"
echo "checks: report responses = rows: $report_check ($rep_responses); one-click: $C_requests answered in the measured service rounds,"
echo "        $c_rows responses in all (service and pgbench, warm-ups included), their day counts kept by the triggers = rows: $click_check ($c_counted)"
echo
echo "CSV export GET /v1/surveys/{id}/responses.csv (a fresh service):"
echo "  $csv_lines lines ($csv_check: $n_resp responses + header), $csv_bytes bytes in ${csv_secs}s (first byte after ${csv_ttfb}s):"
echo "  $csv_rate MB/s, $csv_rows_rate rows/s; psql COPY of the same SELECT as CSV: $copy_bytes bytes in ${copy_secs}s ($copy_rate MB/s)"
echo "  service RSS: VmHWM before $(mb "$hwm0") MB (VmRSS $(mb "$rss0") MB), after $(mb "$hwm1") MB; VmRSS during the export: at most $(mb "$csv_rss_max") MB ($csv_samples samples)"
echo
echo "failed requests or transactions: $errs; error lines in the service logs: $svc_errors"
