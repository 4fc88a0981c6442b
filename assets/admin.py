from django.contrib import admin

from .models import Asset, Category, Tag


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "user", "content_type", "size", "created_at"]
    list_filter = ["client", "content_type", "tags", "categories"]
    search_fields = ["name", "id", "metadata__jobId", "user__username"]
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


admin.site.register(Tag, search_fields=["name"])
admin.site.register(Category, search_fields=["name"])
