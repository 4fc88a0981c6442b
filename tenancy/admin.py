from django.contrib import admin

from .models import Client, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]  # the host's user admin need not be searchable


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "webhook_url", "created_at"]
    search_fields = ["name", "id"]
    inlines = [MembershipInline]
    fields = ["name", "webhook_url", "webhook_events", "secret_state"]
    readonly_fields = ["secret_state"]

    @admin.display(description="webhook signing secret")
    def secret_state(self, client):
        # Never shown: a member makes a new one with POST …/clients/<id>/webhook-secret and sees it once.
        return "set" if client.webhook_secret else "not set (made at the first delivery)"
