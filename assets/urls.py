from rest_framework.routers import SimpleRouter

from .api import AssetViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("", AssetViewSet, basename="asset")
urlpatterns = router.urls
