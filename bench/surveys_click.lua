-- wrk script for bench/surveys.sh, scenario "one-click answer".
--
-- Every request is the POST of the score page, POST /s/<token> with the
-- form q=nps&v=8, for an invitation no earlier request answered (the first
-- answer: the response row is inserted and counted). SURVEYS_TOKENS is a
-- file of tokens, one a line; SURVEYS_FIRST and SURVEYS_COUNT pick the
-- slice this run uses (each run gets its own, so nothing repeats across
-- warm-up and measured runs); SURVEYS_THREADS must equal wrk -t. Thread t
-- sends tokens FIRST+t, FIRST+t+THREADS, ... and starts over at the start
-- of its share only when it runs out, which done() reports as wrapped=N.
--
-- done() prints the machine-readable BENCH line of bench/wrk.lua, plus
-- wrapped=N.

local tokens_file = assert(os.getenv("SURVEYS_TOKENS"), "SURVEYS_TOKENS not set")
local first = tonumber(os.getenv("SURVEYS_FIRST") or "0")
local count = tonumber(os.getenv("SURVEYS_COUNT") or "0")
local nthreads = tonumber(os.getenv("SURVEYS_THREADS") or "1")

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

function init(args)
   mine = {}
   local i = 0
   for line in io.lines(tokens_file) do
      if i >= first and i < first + count and (i - first) % nthreads == tid then
         mine[#mine + 1] = line
      end
      i = i + 1
   end
   assert(#mine > 0, "no tokens for thread " .. tid)
   pos = 0
   wrapped = 0
end

function request()
   pos = pos + 1
   if pos > #mine then
      pos = 1
      wrapped = wrapped + 1
   end
   return wrk.format("POST", "/s/" .. mine[pos],
                     {["Content-Type"] = "application/x-www-form-urlencoded"}, "q=nps&v=8")
end

function done(summary, latency, requests)
   local e = summary.errors
   local w = 0
   for _, t in ipairs(threads) do
      w = w + (t:get("wrapped") or 0)
   end
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d wrapped=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout, w))
end
