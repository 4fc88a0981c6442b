from django.contrib import admin

from .models import Client, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]  # the host's user admin need not be searchable


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    search_fields = ["name", "id"]
    inlines = [MembershipInline]
    fields = ["name"]  # webhook defaults: image_to_video's "client webhook settings"
