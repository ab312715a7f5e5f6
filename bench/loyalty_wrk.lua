-- wrk script for bench/link.sh, scenario "loyalty".
--
-- Environment:
--   BENCH_AUTH           the shop API key (Authorization: Bearer ...)
--   LINK_MODE            "get":    GET /v1/loyalty/accounts/{id}
--                        "adjust": POST /v1/loyalty/accounts/{id}/adjustments
--                                  {"points":1,"reason":"bench"} with an
--                                  Idempotency-Key no other request used
--   LINK_ACCOUNT_FIRST, LINK_ACCOUNT_LAST   the accounts; each request takes
--                        one uniformly at random (as bench/loyalty_*.sql do)
--   LINK_RUN             a token unique to this wrk run (part of every key)
--
-- Each thread seeds its own generator, so the two threads do not walk the
-- same accounts in step. done() prints the BENCH line of bench/wrk.lua.

local mode = os.getenv("LINK_MODE") or "get"
local lo = tonumber(os.getenv("LINK_ACCOUNT_FIRST") or "1")
local hi = tonumber(os.getenv("LINK_ACCOUNT_LAST") or "1")
local run = os.getenv("LINK_RUN") or tostring(os.time())
local auth = os.getenv("BENCH_AUTH")

local next_tid = 0
function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

local counter = 0
local body = '{"points":1,"reason":"bench"}'

function init(args)
   math.randomseed(os.time() + 7919 * (tonumber(tid) + 1))
   if auth ~= nil and auth ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. auth
   end
   if mode == "adjust" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   end
end

function request()
   local id = math.random(lo, hi)
   if mode == "adjust" then
      counter = counter + 1
      wrk.headers["Idempotency-Key"] = "link-" .. run .. "-" .. tid .. "-" .. counter
      return wrk.format(nil, "/v1/loyalty/accounts/" .. id .. "/adjustments", nil, body)
   end
   return wrk.format(nil, "/v1/loyalty/accounts/" .. id)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d wrapped=0\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
