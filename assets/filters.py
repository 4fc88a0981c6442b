"""Asset filters: tags and categories must all match; search covers name and tags."""

import django_filters
from django.db.models import Q

from .models import Asset


def _names(values) -> list[str]:
    names: list[str] = []
    for value in values or []:
        names.extend(part.strip() for part in str(value).split(",") if part.strip())
    return names


class AllOfFilter(django_filters.BaseCSVFilter, django_filters.CharFilter):
    """``?tag=a&tag=b`` or ``?tag=a,b``: the asset must have every one."""

    def __init__(self, *args, relation: str, **kwargs):
        self.relation = relation
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        for name in _names(value):
            qs = qs.filter(**{f"{self.relation}__name": name})
        return qs.distinct() if value else qs


class AssetFilter(django_filters.FilterSet):
    tag = AllOfFilter(relation="tags", help_text="tag name(s); all must match")
    category = AllOfFilter(relation="categories", help_text="category name(s); all must match")
    jobId = django_filters.UUIDFilter(method="filter_job", help_text="the job that made the asset")
    clientId = django_filters.UUIDFilter(field_name="client_id")
    search = django_filters.CharFilter(method="filter_search", help_text="words in the name or a tag")
    ordering = django_filters.OrderingFilter(fields=(("created_at", "createdAt"), ("name", "name"), ("size", "size")))

    class Meta:
        model = Asset
        fields: list[str] = []

    def filter_job(self, qs, name, value):
        return qs.filter(metadata__jobId=str(value))

    def filter_search(self, qs, name, value):
        for word in value.split():
            qs = qs.filter(Q(name__icontains=word) | Q(tags__name__icontains=word))
        return qs.distinct()

    def filter_queryset(self, queryset):
        # Repeated ?tag=a&tag=b arrive as a list; BaseCSVFilter sees only the last one otherwise.
        for key in ("tag", "category"):
            if key in self.data and hasattr(self.data, "getlist"):
                self.form.cleaned_data[key] = self.data.getlist(key)
        return super().filter_queryset(queryset)
