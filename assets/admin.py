from django.contrib import admin

from .models import Asset, Category, ShareLink, Tag
from .users import user_search_fields


class ShareLinkInline(admin.TabularInline):
    """The asset's share links, to see and to revoke (delete); links are made by members through the API."""

    model = ShareLink
    extra = 0
    fields = ["created_by", "created_at", "expires_at"]
    readonly_fields = ["created_by", "created_at", "expires_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    inlines = [ShareLinkInline]
    list_display = ["name", "client", "user", "content_type", "size", "quality", "created_at"]
    list_filter = ["client", "content_type", "tags", "categories"]
    search_fields = ["name", "id", "origin"]  # an origin holds the maker's id, e.g. a job's
    readonly_fields = [
        "id",
        "client",
        "user",
        "origin",
        "file",
        "content_type",
        "size",
        "width",
        "height",
        "duration",
        "metadata",
        "created_at",
    ]
    filter_horizontal = ["tags", "categories"]

    def get_search_fields(self, request):
        return [*self.search_fields, *user_search_fields()]  # whatever the host's user model calls its key

    @admin.display(description="quality")
    def quality(self, asset):
        """``metadata.quality`` as the filing app measured it: "ok", the flags, or "-" when unmeasured."""
        report = (asset.metadata or {}).get("quality")
        if not isinstance(report, dict):
            return "-"
        return ", ".join(report.get("flags") or []) or "ok"


admin.site.register(Tag, search_fields=["name"])
admin.site.register(Category, search_fields=["name"])
