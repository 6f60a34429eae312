from articurated.errors import Conflict


class InsufficientStock(Conflict):
    """details.items: one {"index", "sku", "requested", "available"} per short line."""

    code = "INSUFFICIENT_STOCK"

    def __init__(self, items: list[dict]) -> None:
        names = ", ".join(f"{item['sku']} (line {item['index']})" for item in items)
        super().__init__(f"Not enough stock for {names}.", details={"items": items})


class StockBelowAllocated(Conflict):
    code = "STOCK_BELOW_ALLOCATED"

    def __init__(self, *, sku: str, on_hand: int, allocated: int) -> None:
        super().__init__(
            f"On hand of {sku} cannot be {on_hand}: orders hold {allocated} units.",
            details={"allocated": allocated},
        )
