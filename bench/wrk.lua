-- wrk script for bench/run.
--
-- With BENCH_AUTH set in the environment, every request carries
-- "Authorization: Bearer $BENCH_AUTH" (a shop API key for GET /v1/shop).
-- done() prints one machine-readable line that bench/run parses:
--   BENCH requests=N duration_us=N p50_us=N p90_us=N p95_us=N p99_us=N max_us=N
--         mean_us=N errors_status=N errors_connect=N errors_read=N
--         errors_write=N errors_timeout=N
-- errors_status counts responses with a status of 400 or more.

local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. auth
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
