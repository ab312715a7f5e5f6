-- wrk script for bench/link.sh, scenario "webhook ingest".
--
-- Every request is a signed WooCommerce delivery (POST, topic
-- order.updated) with a body no earlier request had: the receiver
-- deduplicates by content, so a repeated body would measure the duplicate
-- path instead of a stored delivery.
--
-- bench/link.sh generates, with the shop's webhook secret:
--   LINK_TEMPLATES  8 lines, each an order as WooCommerce's json_encode writes
--                   it (~3 KB, \/ and \uXXXX escapes), cut at every place the
--                   order id goes into tab-separated parts;
--   LINK_ROWS       one line per delivery: "template id signature", where
--                   signature = base64(HMAC-SHA256(secret, body)) and body =
--                   the template's parts joined with the id.
-- LINK_FIRST and LINK_COUNT pick the slice of rows this run uses (each run
-- of the benchmark gets its own slice, so nothing repeats across warm-up
-- and measured runs); LINK_THREADS must equal wrk -t. Thread t sends rows
-- FIRST+t, FIRST+t+THREADS, ... and starts over at the beginning of its
-- share only when it runs out, which done() reports as wrapped=N (then the
-- slice was too small for the run and bench/link.sh says so).
--
-- LINK_DELAY_MS > 0 makes each connection wait that long after a response
-- before its next request (a paced load instead of a saturating one; the
-- latency wrk reports excludes the wait).
--
-- done() prints the same machine-readable BENCH line as bench/wrk.lua, plus
-- wrapped=N.

local templates_file = assert(os.getenv("LINK_TEMPLATES"), "LINK_TEMPLATES not set")
local rows_file = assert(os.getenv("LINK_ROWS"), "LINK_ROWS not set")
local first = tonumber(os.getenv("LINK_FIRST") or "0")
local count = tonumber(os.getenv("LINK_COUNT") or "0")
local nthreads = tonumber(os.getenv("LINK_THREADS") or "1")
local topic = os.getenv("LINK_TOPIC") or "order.updated"
local delay_ms = tonumber(os.getenv("LINK_DELAY_MS") or "0")

if delay_ms > 0 then
   function delay()
      return delay_ms
   end
end

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

local function split_tabs(line)
   local parts = {}
   for part in (line .. "\t"):gmatch("([^\t]*)\t") do
      parts[#parts + 1] = part
   end
   return parts
end

local templates, tmpl, ids, sigs = {}, {}, {}, {}
local n, i = 0, 0
wrapped = 0

function init(args)
   local me = tonumber(tid)
   for line in io.lines(templates_file) do
      templates[#templates + 1] = split_tabs(line)
   end
   local row = 0
   for line in io.lines(rows_file) do
      if row >= first + count then
         break
      end
      if row >= first and (row - first) % nthreads == me then
         local k, id, sig = line:match("^(%d+) (%d+) (%S+)$")
         n = n + 1
         tmpl[n] = templates[tonumber(k) + 1]
         ids[n] = id
         sigs[n] = sig
      end
      row = row + 1
   end
   assert(n > 0, "no rows for this thread: LINK_FIRST/LINK_COUNT beyond LINK_ROWS?")
   local resource, event = topic:match("^([^.]+)%.(.+)$")
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["User-Agent"] = "WooCommerce/8.2.1 Hookshot (WordPress/6.4.1)"
   wrk.headers["X-WC-Webhook-Source"] = "https://shop.example.sk/"
   wrk.headers["X-WC-Webhook-Topic"] = topic
   wrk.headers["X-WC-Webhook-Resource"] = resource
   wrk.headers["X-WC-Webhook-Event"] = event
   wrk.headers["X-WC-Webhook-ID"] = "7"
   wrk.headers["X-WC-Webhook-Delivery-ID"] = string.format("%08x%08x%016x", me, n, first)
end

function request()
   i = i + 1
   if i > n then
      i = 1
      wrapped = wrapped + 1
   end
   wrk.headers["X-WC-Webhook-Signature"] = sigs[i]
   return wrk.format(nil, nil, nil, table.concat(tmpl[i], ids[i]))
end

function done(summary, latency, requests)
   local e = summary.errors
   local w = 0
   for _, t in ipairs(threads) do
      w = w + (tonumber(t:get("wrapped")) or 0)
   end
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d wrapped=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout, w))
end
