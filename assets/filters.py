"""Asset filters: tags and categories must all match; search covers the name, the original file's name
(``metadata.sourceName``, which a filing app may set) and tags.

Each term is one ``EXISTS`` subquery, not a join (joins multiply rows and plans),
and the number of terms is capped: past the cap the answer is a 400 naming the
parameter.
"""

import functools
import operator
from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q
from rest_framework.exceptions import ValidationError

from .clients import parse_client_key
from .models import Asset

MAX_TERMS = 10  # tags, categories, or search words per request
QUALITY_MEASURES = ("jitterPx", "borderPixels", "subjectInFrame", "flicker")  # what metadata.quality flags


def _cap(param: str, terms: list[str]) -> None:
    if len(terms) > MAX_TERMS:
        raise ValidationError({param: [f"At most {MAX_TERMS} terms, got {len(terms)}."]})


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
        names = _names(value)
        _cap(self.field_name, names)
        through = getattr(Asset, self.relation).through
        target = "tag" if self.relation == "tags" else "category"
        for name in names:
            qs = qs.filter(Exists(through.objects.filter(asset_id=OuterRef("pk"), **{f"{target}__name": name})))
        return qs


class AssetFilter(django_filters.FilterSet):
    tag = AllOfFilter(relation="tags", help_text="tag name(s); all must match")
    category = AllOfFilter(relation="categories", help_text="category name(s); all must match")
    origin = django_filters.CharFilter(field_name="origin", help_text="what the asset was made from, exactly")
    clientId = django_filters.CharFilter(method="filter_client", help_text="the client's key")
    search = django_filters.CharFilter(
        method="filter_search", help_text="words in the name, the original file's name (metadata.sourceName) or a tag"
    )
    quality = django_filters.ChoiceFilter(
        method="filter_quality",
        choices=(("ok", "ok"), ("flagged", "flagged")),
        help_text="ok: a measured metadata.quality with no flag; flagged: one with a flag",
    )
    qualityFlag = django_filters.ChoiceFilter(
        method="filter_quality_flag",
        choices=[(n, n) for n in QUALITY_MEASURES],
        help_text="assets whose metadata.quality flags this measure",
    )
    ordering = django_filters.OrderingFilter(fields=(("created_at", "createdAt"), ("name", "name"), ("size", "size")))

    class Meta:
        model = Asset
        fields: list[str] = []

    def filter_client(self, qs, name, value):
        key = parse_client_key(value)
        if key is None:
            raise ValidationError({"clientId": ["Not a client id."]})
        return qs.filter(client_id=key)

    def filter_quality(self, qs, name, value):
        measured = qs.filter(metadata__has_key="quality")
        return (
            measured.filter(metadata__quality__flags=[])
            if value == "ok"
            else measured.exclude(metadata__quality__flags=[])
        )

    def filter_quality_flag(self, qs, name, value):
        # One position of the flags list per measure: JSON containment is not on every database (SQLite).
        at_any = [Q(**{f"metadata__quality__flags__{i}": value}) for i in range(len(QUALITY_MEASURES))]
        return qs.filter(functools.reduce(operator.or_, at_any))

    def filter_search(self, qs, name, value):
        words = value.split()
        _cap("search", words)
        for word in words:
            tagged = Asset.tags.through.objects.filter(asset_id=OuterRef("pk"), tag__name__icontains=word)
            qs = qs.filter(Q(name__icontains=word) | Q(metadata__sourceName__icontains=word) | Exists(tagged))
        return qs

    def filter_queryset(self, queryset):
        # Repeated ?tag=a&tag=b arrive as a list; BaseCSVFilter sees only the last one otherwise.
        for key in ("tag", "category"):
            if key in self.data and hasattr(self.data, "getlist"):
                self.form.cleaned_data[key] = self.data.getlist(key)
        return super().filter_queryset(queryset)


def register_origin_parameter(name: str, origin_of: Callable[[str], str | None], help_text: str) -> None:
    """Let an app that files into the library filter the list by what it made: ``?<name>=<value>`` means the
    asset whose origin is ``origin_of(value)`` (None: the value cannot name anything, a 400 naming ``name``).
    image_to_video registers ``jobId`` this way; the library itself knows nothing of jobs."""

    def by_origin(queryset: Any, _field: str, value: str) -> Any:
        origin = origin_of(value)
        if origin is None:
            raise ValidationError({name: [f"Not a valid {name}."]})
        return queryset.filter(origin=origin)

    AssetFilter.base_filters[name] = django_filters.CharFilter(method=by_origin, help_text=help_text)
