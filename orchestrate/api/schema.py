"""How the OpenAPI schema describes errors, shared by every endpoint.

Every error answer of the API has a body: `{"detail": "..."}` (`Error`) for 401, 403,
404, 409 and 415, and field errors (`FieldErrors`) for 400. An endpoint declares the
error codes it may answer with a description; `OrchestrateAutoSchema` gives each one its
body, and adds 401 (with its example) to every endpoint that needs a token or a session.

Request bodies are documented as JSON only: it is what clients send (the API reads forms
too, as DRF does, but a form cannot carry nested `variables` or `data`). A request example
applies to every JSON media type an endpoint reads (`application/cloudevents+json` too).
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of a 401, 403, 404, 409 or 415 answer."""

    detail = serializers.CharField(help_text="What went wrong, in words.")


class FieldErrorsSerializer(serializers.Serializer):
    """The body of a 400 answer; its schema comes from `FieldErrorsExtension`."""


_MESSAGES = {"type": "array", "items": {"type": "string"}}


class FieldErrorsExtension(OpenApiSerializerExtension):
    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "Messages by field name: a list of messages, or for a nested "
            "object (a form's `data`, start `variables`) the same again by inner field. "
            "`non_field_errors` concerns the body as a whole; `detail` says why a body "
            "could not be read at all.",
            "additionalProperties": {
                "anyOf": [
                    _MESSAGES,
                    {"type": "object", "additionalProperties": _MESSAGES},
                    {"type": "string"},
                ]
            },
        }


NOT_AUTHENTICATED = OpenApiExample(
    "No credentials",
    value={"detail": "Authentication credentials were not provided."},
    response_only=True,
    status_codes=["401"],
)


def is_json(media_type):
    """`application/json` and the `+json` types (such as `application/cloudevents+json`)."""
    return media_type == "application/json" or media_type.endswith("+json")


def error(description):
    """An error answer with the standard body for its code (filled in by the schema)."""
    return OpenApiResponse(description=description)


class OrchestrateAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the error bodies described above."""

    def map_parsers(self):
        return [media_type for media_type in super().map_parsers() if is_json(media_type)]

    def _get_examples(self, serializer, direction, media_type, status_code=None, extras=None):
        if direction == "request" and media_type and is_json(media_type):
            # Examples default to application/json; they fit every JSON type.
            media_type = "application/json"
        return super()._get_examples(serializer, direction, media_type, status_code, extras)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self._needs_credentials() and "401" not in responses:
            responses["401"] = self._get_response_for_code(
                OpenApiResponse(
                    ErrorSerializer,
                    description="No valid credentials: send `Authorization: Token <key>`.",
                    examples=[NOT_AUTHENTICATED],
                ),
                "401",
            )
        for code, response in list(responses.items()):
            if code >= "400" and "content" not in response:
                responses[code] = self._error_response(code, response.get("description", ""))
        return dict(sorted(responses.items()))

    def _needs_credentials(self):
        """Authenticators exist and anonymous access is not among the requirements."""
        auths = self.get_auth()
        return bool(auths) and {} not in auths

    def _error_response(self, code, description):
        body = FieldErrorsSerializer if code == "400" else ErrorSerializer
        return self._get_response_for_code(OpenApiResponse(body, description=description), code)
