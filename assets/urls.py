from rest_framework.routers import SimpleRouter

from .api import AssetViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # the contract's routes have no slash; accept both
router.register("assets", AssetViewSet, basename="asset")
urlpatterns = router.urls
