from articurated.errors import Conflict


class CategoryNotEmpty(Conflict):
    code = "CATEGORY_NOT_EMPTY"


class SkuCodeTaken(Conflict):
    code = "SKU_CODE_TAKEN"

    def __init__(self, code: str) -> None:
        super().__init__(f"A live SKU has the code {code} now.", details={"sku": code})
