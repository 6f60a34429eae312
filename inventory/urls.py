from articurated.api.routers import OptionalSlashRouter
from inventory.api import SkuStockViewSet, StockMovementViewSet

router = OptionalSlashRouter()
router.register("skus", SkuStockViewSet, basename="sku-stock")
router.register("stock-movements", StockMovementViewSet, basename="stock-movement")
urlpatterns = router.urls
