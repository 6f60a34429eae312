local body = [[{"customer": {"email": "load@example.com", "name": "Load Test"},
 "currency": "USD",
 "shipping_address": {"name": "Load Test", "line1": "1 Bench St", "line2": "", "city": "Bristol",
                      "region": "", "postal_code": "BS1 4DJ", "country": "GB", "phone": ""},
 "items": [{"sku": "VASE-01", "name": "Hand-thrown vase", "quantity": 2, "unit_price": "49.50"},
           {"sku": "BOWL-07", "name": "Raku tea bowl", "quantity": 1, "unit_price": "32.00"},
           {"sku": "CUP-12", "name": "Stoneware mug", "quantity": 4, "unit_price": "18.00"}],
 "shipping_amount": "5.00", "tax_amount": "0.00", "notes": ""}]]
request = function()
  return wrk.format("POST", "/api/v1/orders", auth, body)
end
