request = function()
  return wrk.format("GET", "/api/v1/orders/" .. random_row().id, auth)
end
