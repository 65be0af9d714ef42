-- plan.lua's replay (its plan file, step and offset), with one connection per thread (wrk -t N -c N),
-- recording every response: when it arrived (CLOCK_MONOTONIC, the clock of Python's time.monotonic)
-- and how long it took. One connection per thread is what makes the latency exact: a thread's
-- request() and response() alternate. A fourth argument names the output file: done() writes
-- "<ms> <latency us>" lines to it, then prints plan.lua's JSON summary.
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

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "plan.lua")
local plan_setup, plan_init, plan_request, plan_done = setup, init, request, done
local threads = {}

function setup(thread)
  plan_setup(thread)
  table.insert(threads, thread)
end

function init(args)
  plan_init(args)
  out = args[4]
  sent, times, latencies, n = 0, {}, {}, 0
end

function request()
  sent = now_us()
  return plan_request()
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
  plan_done(summary, latency, requests)
end
