"""Public reference data every client needs: provinces, schools, majors, ethnic groups.

Any authenticated user may read them. Provinces and ethnic groups are short fixed lists and
come unpaginated; schools and majors are paginated (``limit``/``offset``).
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import generics

from records.api.schema import error_responses
from records.api.serializers import EthnicitySerializer
from records.api.serializers import MajorSerializer
from records.api.serializers import ProvinceSerializer
from records.api.serializers import SchoolFilterSerializer
from records.api.serializers import SchoolSerializer
from records.api.serializers import SearchFilterSerializer
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import School

TAGS = ["reference"]

_M = TypeVar("_M", bound=models.Model)


def _search(queryset: models.QuerySet[_M], q: str) -> models.QuerySet[_M]:
    """Name contains ``q``, or the code starts with it."""
    if not q:
        return queryset
    return queryset.filter(models.Q(name__icontains=q) | models.Q(code__startswith=q))


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="Provinces",
        responses={200: ProvinceSerializer, **error_responses(401)},
    )
)
class ProvinceList(generics.ListAPIView[Province]):
    """Every province-level division (GB/T 2260 code), unpaginated."""

    queryset = Province.objects.all()
    serializer_class = ProvinceSerializer
    pagination_class = None


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="Schools",
        parameters=[SchoolFilterSerializer],
        responses={200: SchoolSerializer, **error_responses(400, 401)},
    )
)
class SchoolList(generics.ListAPIView[School]):
    """The Ministry's list of schools, by code; filter by province and by name or code."""

    serializer_class = SchoolSerializer

    def get_queryset(self) -> models.QuerySet[School]:
        params = SchoolFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        queryset = School.objects.select_related("province").order_by("code")
        if province := params.validated_data.get("province"):
            queryset = queryset.filter(province_id=province)
        return _search(queryset, params.validated_data.get("q", ""))


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="One school",
        responses={200: SchoolSerializer, **error_responses(401, 404)},
    )
)
class SchoolDetail(generics.RetrieveAPIView[School]):
    """One school, by its 5-digit code."""

    queryset = School.objects.select_related("province")
    serializer_class = SchoolSerializer
    lookup_url_kwarg = "code"


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="Undergraduate majors",
        parameters=[SearchFilterSerializer],
        responses={200: MajorSerializer, **error_responses(400, 401)},
    )
)
class MajorList(generics.ListAPIView[Major]):
    """The Ministry's undergraduate major catalogue, by code; filter by name or code."""

    serializer_class = MajorSerializer

    def get_queryset(self) -> models.QuerySet[Major]:
        params = SearchFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return _search(Major.objects.order_by("code"), params.validated_data.get("q", ""))


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="Ethnic groups",
        responses={200: EthnicitySerializer, **error_responses(401)},
    )
)
class EthnicGroupList(generics.ListAPIView[Ethnicity]):
    """The ethnic groups of GB/T 3304 (民族代码), unpaginated."""

    queryset = Ethnicity.objects.all()
    serializer_class = EthnicitySerializer
    pagination_class = None
