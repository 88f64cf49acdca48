from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsStaff, ScopedViewSet
from fulfillment.api.errors import field_error, problem_response
from inventory.selectors import warehouse_from_code
from picking import services
from picking.api import serializers as s
from picking.models import PickList, PickTask, Wave
from picking.services import waves


def _validated(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _wave_args(data: dict) -> dict:
    return {
        **{name: data[name] for name in waves.PARAM_FIELDS},
        "ship_by_until": data["ship_by_until"],
        "order_ids": data["orders"],
    }


class WaveViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ScopedViewSet):
    model = Wave
    serializer_class = s.WaveSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["status", "strategy"]

    def base_queryset(self, qs):
        # The summaries need only each task's order: a 5,000-order wave has ~10,000 tasks.
        tasks = Prefetch("pick_lists__tasks", queryset=PickTask.objects.only("id", "pick_list_id", "order_id"))
        return qs.select_related("warehouse").prefetch_related(tasks)

    def _input(self, request) -> tuple:
        data = _validated(s.WaveInputSerializer, request)
        return warehouse_from_code(self.actor, data["warehouse"]), _wave_args(data)

    @extend_schema(
        request=s.WaveInputSerializer,
        responses={
            201: s.WaveReleasedSerializer,
            403: OpenApiResponse(description="not a manager"),
            422: OpenApiResponse(description="no allocated orders to take, or bad input: nothing written"),
        },
    )
    def create(self, request, *args, **kwargs):
        """Release a wave now (managers): allocated orders by priority, ship-by and arrival, grouped by
        cut-off, capped by orders and lines, on carts capped by totes and volume, into routed pick lists.
        ``orders`` limits it to those orders (a preview's); those that changed meanwhile are left out."""
        warehouse, args = self._input(request)
        if not self.actor.is_manager:
            raise exceptions.PermissionDenied("Only managers release waves.")
        release = waves.wave_release(warehouse=warehouse, actor=self.actor.label, **args)
        if release.wave is None:
            raise field_error("no allocated orders are waiting in this warehouse", field=None, code="nothing_to_pick")
        wave = self.get_queryset().get(pk=release.wave.pk)
        body = s.WaveReleasedSerializer(wave, context={"left_out": release.left_out}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.WaveInputSerializer,
        responses={200: s.WavePlanSerializer, 422: OpenApiResponse(description="bad input")},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The wave a release would make now, with the first-come-first-served distance to compare.
        Writes nothing; release it by POSTing the same body with ``orders`` set to the answer's ``orders``."""
        warehouse, args = self._input(request)
        plan = waves.wave_plan(warehouse=warehouse, **args)
        return Response(s.WavePlanSerializer(plan).data)


class PickListViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ScopedViewSet):
    model = PickList
    serializer_class = s.PickListSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["status", "wave"]

    def base_queryset(self, qs):
        return qs.select_related("warehouse", "assigned_to").prefetch_related(
            "tasks__location", "tasks__product", "tasks__lot", "tasks__order"
        )

    def _user(self, request):
        return request.user if getattr(request.user, "pk", None) else None

    def _list_answer(self, pick_list) -> Response:
        return Response(s.PickListSerializer(self.get_queryset().get(pk=pick_list.pk)).data)

    @extend_schema(
        request=s.PickInputSerializer,
        responses={
            201: s.PickTaskSerializer,
            409: OpenApiResponse(
                description="in `errors[0].code`: the task is already done (`task_done`), its order left picking "
                "(`order_not_picking`; the task is skipped), or the list is another picker's (`assigned_elsewhere`)"
            ),
            422: OpenApiResponse(description="wrong location or product scan, bad quantity: nothing changed"),
        },
    )
    @action(detail=True, methods=["post"])
    def picks(self, request, pk=None):
        """Confirm a pick by its scans; a wrong scan is 422 and changes nothing; ``short`` reports missing units."""
        pick_list = self.get_object()
        data = _validated(s.PickInputSerializer, request)
        task = services.pick_confirm(
            pick_list=pick_list,
            task_id=data["task"],
            location_barcode=data["location_barcode"],
            product_barcode=data["product_barcode"],
            quantity=data["quantity"],
            short=data["short"],
            actor=self.actor.label,
            user=self._user(request),
        )
        if task is None:
            raise exceptions.NotFound()
        task = PickTask.objects.select_related("location", "product", "lot", "order").get(pk=task.pk)
        return Response(s.PickTaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.PickScanInputSerializer,
        responses={
            200: s.PickScanAnswerSerializer,
            409: OpenApiResponse(
                s.PickScanRefusedSerializer,
                description="the list moved on (`stale_task`), is another picker's (`assigned_elsewhere`), is done "
                "(`list_done`), or the order left picking (`order_not_picking`; its task is skipped); "
                "`scan_id_reused`: the scan id was used for another code",
            ),
            422: OpenApiResponse(
                s.PickScanRefusedSerializer,
                description="a wrong scan (`wrong_location`, `wrong_product`, `wrong_lot`, `lot_required`, "
                "`over_count`, `wrong_tote`, `location_first`, `product_first`, `tote_required`, `bad_quantity`, "
                "`invalid_scan`): logged, nothing else changed; or invalid input",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scans(self, request, pk=None):
        """One scan of the handheld flow: location, then product (each scan counts units; GS1-128 with lot),
        then the tote, which confirms the counted units. Buttons go in ``action``. A repeated ``scan_id``
        answers the stored outcome and changes nothing; a refused scan changes nothing but is logged."""
        pick_list = self.get_object()
        data = _validated(s.PickScanInputSerializer, request)
        try:
            result = services.pick_scan(
                pick_list=pick_list,
                scan_id=data["scan_id"],
                code=data["code"],
                action=data["action"],
                quantity=data["quantity"],
                task_id=data["task"],
                user=self._user(request),
                actor=self.actor.label,
            )
        except services.ScanRefused as exc:
            # More than a translation: a refused scan answers with what it logged and the unchanged state.
            outcome = s.PickScanOutcomeSerializer(services.ScanResult(scan=exc.scan, state=exc.state)).data
            extra = {"scan": outcome, "state": s.PickStateSerializer(exc.state).data}
            return problem_response(exc.status, exc.message, errors=exc.errors, extra=extra)
        return Response(s.PickScanAnswerSerializer(result).data)

    @extend_schema(responses={200: s.PickStateSerializer})
    @action(detail=True, methods=["get"], url_path="state")
    def current_state(self, request, pk=None):
        """Where the list is (a device resuming after a restart): the current task, its step, progress."""
        return Response(s.PickStateSerializer(services.pick_state(pick_list=self.get_object())).data)

    @extend_schema(
        request=s.PickListTakeSerializer,
        responses={
            200: s.PickListSerializer,
            403: OpenApiResponse(description="only managers hand a list to someone else"),
            409: OpenApiResponse(description="the list is another picker's, or done"),
            422: OpenApiResponse(description="no such user in the list's warehouse"),
        },
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        """Take the list (it becomes the caller's); managers may take it over, or hand it to ``user``."""
        pick_list = self.get_object()
        handed_to = _validated(s.PickListTakeSerializer, request)["user"]
        user = self._user(request)
        if handed_to:
            if not self.actor.is_manager:
                raise exceptions.PermissionDenied("Only managers hand a pick list to someone else.")
            user = get_user_model().objects.filter(username=handed_to).first()
            if user is None:
                raise field_error("no such user", field="user", code="invalid")
        if user is None:
            raise exceptions.PermissionDenied("This endpoint needs a staff user's token.")
        services.pick_list_assign(pick_list=pick_list, user=user, actor=self.actor.label, replace=self.actor.is_manager)
        return self._list_answer(pick_list)

    @extend_schema(
        request=None,
        responses={
            200: s.PickListSerializer,
            204: OpenApiResponse(description="nothing to pick in the caller's warehouses"),
        },
    )
    @action(detail=False, methods=["post"], url_path="next")
    def take_next(self, request):
        """The caller's next pick list, taken for them: their unfinished one, else the free list with the most
        urgent orders (priority, then cut-off), oldest first."""
        user = self._user(request)
        if user is None:
            raise exceptions.PermissionDenied("This endpoint needs a staff user's token.")
        pick_list = services.pick_list_next(actor=self.actor, user=user)
        if pick_list is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._list_answer(pick_list)
