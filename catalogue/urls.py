from articurated.api.routers import OptionalSlashRouter
from catalogue.api import CategoryViewSet, ProductViewSet, SkuViewSet

router = OptionalSlashRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("skus", SkuViewSet, basename="sku")
urlpatterns = router.urls
