request = function()
  return wrk.format("GET", "/read/" .. random_row().id)
end
