-- Replays a plan file, one request per line: METHOD \t PATH \t TOKEN-or-"-" \t BODY-or-"-".
-- A TOKEN of the form etag:<value> is sent as If-None-Match instead of a bearer token.
-- Each thread takes every n-th line from its own offset, so no two threads send the same line
-- (a checkout plan gives every request its own user and pre-filled cart). Prints a JSON summary.
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
    if token:sub(1, 5) == "etag:" then
      headers["If-None-Match"] = token:sub(6)
    elseif token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
    end
    if body == "-" then body = nil else headers["Content-Type"] = "application/json" end
    table.insert(plan, wrk.format(method, path, headers, body))
  end
  step = tonumber(args[2])
  i = tid - 1 + tonumber(args[3] or "0")
end

function request()
  local r = plan[(i % #plan) + 1]
  i = i + step
  return r
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
