-- Shared by every load script (the runner prepends it). Data comes from the environment:
-- BENCH_TOKEN (API token), BENCH_IDS (a file of lines "id" or "id status"), BENCH_THREADS.
token = os.getenv("BENCH_TOKEN") or ""
threads = tonumber(os.getenv("BENCH_THREADS") or "2")
auth = {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"}

function load_rows(path)
  local rows = {}
  if path == nil or path == "" then return rows end
  for line in io.lines(path) do
    local id, status = line:match("^(%S+)%s*(%S*)$")
    if id then rows[#rows + 1] = {id = id, status = status} end
  end
  return rows
end

rows = load_rows(os.getenv("BENCH_IDS"))
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

local next_thread = 0
function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function random_row()
  return rows[math.random(1, #rows)]
end

-- Each thread walks its own contiguous block of rows, so no two requests share a row.
local taken = 0
function next_row()
  local block = math.floor(#rows / threads)
  local row = rows[(thread_index or 0) * block + (taken % block) + 1]
  taken = taken + 1
  return row
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
