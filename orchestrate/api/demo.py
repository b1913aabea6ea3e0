"""A stand-in for an ERP's purchase-order endpoint, called by the `purchase_request` demo
workflow's `create_purchase_order` step.

It keeps no state: the PO number comes from the `Idempotency-Key` header, so every attempt
of one step run gets the same number, which is how a real ERP would drop a repeated call.
"""

import secrets

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import examples
from .schema import error
from .serializers import JSONNumberField


class PurchaseOrderRequestSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=200)
    amount = JSONNumberField()


class PurchaseOrderSerializer(PurchaseOrderRequestSerializer):
    po_number = serializers.CharField()


def po_number_for(idempotency_key):
    """`PO-` and the first 8 characters of the key upper-cased, or random hex without one."""
    key = (idempotency_key or "").strip()
    suffix = key[:8].upper() if key else secrets.token_hex(4).upper()
    return f"PO-{suffix}"


class PurchaseOrderCreateView(APIView):
    """Demo only: answers like an ERP that creates a purchase order."""

    # No authentication means no session and no CSRF check: the demo engine calls it
    # without credentials, and it changes nothing.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="demo_purchase_orders_create",
        tags=["demo"],
        description="Demo only: answers like an ERP that creates a purchase order. No "
        "authentication; nothing is stored.",
        request=PurchaseOrderRequestSerializer,
        responses={
            201: PurchaseOrderSerializer,
            400: error("Invalid input (a missing item, an amount that is not a number)."),
        },
        examples=examples.PURCHASE_ORDER_EXAMPLES,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="The same key gives the same PO number.",
            )
        ],
    )
    def post(self, request):
        params = PurchaseOrderRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = {
            "po_number": po_number_for(request.headers.get("Idempotency-Key")),
            "item": params.validated_data["item"],
            "amount": params.validated_data["amount"],
        }
        return Response(order, status=status.HTTP_201_CREATED)
