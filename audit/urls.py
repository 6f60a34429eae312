from articurated.api.routers import OptionalSlashRouter
from audit.api import AuditRecordViewSet

router = OptionalSlashRouter()
router.register("audit", AuditRecordViewSet, basename="audit")
urlpatterns = router.urls
