-- The request loop of every workload, for wrk 4.x. load.py prepends the workload's data:
--   bench_requests = { {method = "GET", path = "/...", body = nil or "json"}, ... }
--   bench_headers  = { ["Authorization"] = "Bearer ...", ... }
--   bench_pace_ms  = 0 for as fast as possible, else a pause before each request on a connection
-- Requests are sent round-robin. Fixed requests are formatted once in init(); a body holding
-- "%d" gets a per-thread counter, so PATCHes really change something each time.

local prepared = {}
local index = 0
local counter = 0

local function headers_for(r)
  local h = {}
  for name, value in pairs(bench_headers) do h[name] = value end
  if r.body ~= nil then h["Content-Type"] = "application/json" end
  return h
end

function init(args)
  for i, r in ipairs(bench_requests) do
    if r.body == nil or not string.find(r.body, "%d", 1, true) then
      prepared[i] = wrk.format(r.method, r.path, headers_for(r), r.body)
    end
  end
end

function request()
  index = index % #bench_requests + 1
  local ready = prepared[index]
  if ready ~= nil then return ready end
  counter = counter + 1
  local r = bench_requests[index]
  local body = string.gsub(r.body, "%%d", tostring(counter))
  return wrk.format(r.method, r.path, headers_for(r), body)
end

if bench_pace_ms > 0 then
  function delay() return bench_pace_ms end
end

-- One JSON line for load.py; latencies are in microseconds, errors.status counts answers >= 400.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"min":%.0f,"mean":%.1f,"stdev":%.1f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
