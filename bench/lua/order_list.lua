-- BENCH_LIST_QUERY: the query string (e.g. "status=PAID"); pages 1..5 at random.
local query = os.getenv("BENCH_LIST_QUERY") or ""
request = function()
  local sep = (query == "") and "" or "&"
  return wrk.format("GET", "/api/v1/orders?" .. query .. sep .. "page=" .. math.random(1, 5), auth)
end
