from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsStaff, ScopedViewSet
from fulfillment.api.errors import Conflict, field_error
from inventory.api.common import warehouse_from_code
from picking import services
from picking.api import serializers as s
from picking.models import PickList, PickTask, Wave


def _refused(exc: services.PickingError):
    if exc.status == 409:
        return Conflict(str(exc))
    return field_error(str(exc), field=exc.field, code=exc.code)


class WaveViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ScopedViewSet):
    model = Wave
    serializer_class = s.WaveSerializer
    permission_classes = [IsStaff]

    def base_queryset(self, qs):
        return qs.select_related("warehouse").prefetch_related("pick_lists__tasks")

    @extend_schema(
        request=s.WaveCreateSerializer,
        responses={201: s.WaveSerializer, 422: OpenApiResponse(description="no allocated orders, or bad input")},
    )
    def create(self, request, *args, **kwargs):
        """Build a wave now from allocated orders (priority, ship_by, arrival) into routed pick lists."""
        payload = s.WaveCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        try:
            wave = services.wave_build(
                warehouse=warehouse, strategy=data["strategy"], max_orders=data["max_orders"], actor=self.actor.label
            )
        except services.PickingError as exc:
            raise _refused(exc) from None
        if wave is None:
            raise field_error("no allocated orders are waiting in this warehouse", field=None, code="nothing_to_pick")
        return Response(s.WaveSerializer(self.get_queryset().get(pk=wave.pk)).data, status=status.HTTP_201_CREATED)


class PickListViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ScopedViewSet):
    model = PickList
    serializer_class = s.PickListSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["status", "wave"]

    def base_queryset(self, qs):
        return qs.select_related("warehouse").prefetch_related(
            "tasks__location", "tasks__product", "tasks__lot", "tasks__order"
        )

    @extend_schema(
        request=s.PickInputSerializer,
        responses={
            201: s.PickTaskSerializer,
            409: OpenApiResponse(description="task already done or order no longer picking"),
            422: OpenApiResponse(description="wrong location or product scan, bad quantity: nothing changed"),
        },
    )
    @action(detail=True, methods=["post"])
    def picks(self, request, pk=None):
        """Confirm a pick by its scans; a wrong scan is 422 and changes nothing; ``short`` reports missing units."""
        pick_list = self.get_object()
        payload = s.PickInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            task = services.pick_confirm(
                pick_list=pick_list,
                task_id=data["task"],
                location_barcode=data["location_barcode"],
                product_barcode=data["product_barcode"],
                quantity=data["quantity"],
                short=data["short"],
                actor=self.actor.label,
                user=request.user if getattr(request.user, "pk", None) else None,
            )
        except services.PickingError as exc:
            raise _refused(exc) from None
        if task is None:
            raise exceptions.NotFound()
        task = PickTask.objects.select_related("location", "product", "lot", "order").get(pk=task.pk)
        return Response(s.PickTaskSerializer(task).data, status=status.HTTP_201_CREATED)
