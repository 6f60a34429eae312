from articurated.api.routers import OptionalSlashRouter
from returns.api import ReturnViewSet

router = OptionalSlashRouter()
router.register("returns", ReturnViewSet, basename="return")
urlpatterns = router.urls
