-- Distinct orders: each request moves a different order one step along its lifecycle.
local bodies = {
  PENDING_PAYMENT = '{"new_state": "PAID", "payment_reference": "pay_bench", "payment_method": "card"}',
  PAID = '{"new_state": "PROCESSING_IN_WAREHOUSE"}',
  SHIPPED = '{"new_state": "DELIVERED"}',
}
request = function()
  local row = next_row()
  return wrk.format("PATCH", "/api/v1/orders/" .. row.id .. "/state", auth, bodies[row.status])
end
