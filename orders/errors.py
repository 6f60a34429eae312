from articurated.errors import Conflict


class OrderNotEditable(Conflict):
    """The order left the warehouse or was cancelled: its details are history now."""

    code = "ORDER_NOT_EDITABLE"
