request = function()
  return wrk.format("POST", "/write/" .. math.random(1, 10000))
end
