from articurated.api.routers import OptionalSlashRouter
from imports.api import ImportViewSet

router = OptionalSlashRouter()
router.register("imports", ImportViewSet, basename="import")
urlpatterns = router.urls
