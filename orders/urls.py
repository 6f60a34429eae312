from articurated.api.routers import OptionalSlashRouter
from orders.api import OrderViewSet

router = OptionalSlashRouter()
router.register("orders", OrderViewSet, basename="order")
urlpatterns = router.urls
