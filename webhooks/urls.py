from articurated.api.routers import OptionalSlashRouter
from webhooks.api import EventViewSet, WebhookViewSet

router = OptionalSlashRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("events", EventViewSet, basename="event")
urlpatterns = router.urls
