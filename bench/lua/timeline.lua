-- Replays a plan file like plan.lua (one request per line: METHOD \t PATH \t TOKEN-or-"-" \t BODY-or-"-"),
-- with one connection per thread (wrk -t N -c N), and records every response: when it arrived
-- (CLOCK_MONOTONIC, the clock of Python's time.monotonic) and how long it took. One connection per
-- thread is what makes the latency exact: a thread's request() and response() alternate.
-- Arguments: plan, step (the thread count), offset, output file. done() writes "<ms> <latency us>"
-- lines to the output file and prints a JSON summary as plan.lua does.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  plan = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Accept"] = "application/json"}
    if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
    if body == "-" then body = nil else headers["Content-Type"] = "application/json" end
    table.insert(plan, wrk.format(method, path, headers, body))
  end
  step = tonumber(args[2])
  i = tid - 1 + tonumber(args[3] or "0")
  out = args[4]
  sent, times, latencies, n = 0, {}, {}, 0
end

function request()
  local r = plan[(i % #plan) + 1]
  i = i + step
  sent = now_us()
  return r
end

function response(status, headers, body)
  local t = now_us()
  n = n + 1
  times[n] = math.floor(t / 1000)
  latencies[n] = math.floor(t - sent)
end

function done(summary, latency, requests)
  local f = io.open(threads[1]:get("out"), "w")
  for _, thread in ipairs(threads) do
    local t, l = thread:get("times"), thread:get("latencies")
    for k = 1, #t do f:write(t[k], " ", l[k], "\n") end
  end
  f:close()
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
