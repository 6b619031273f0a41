"""The OpenAPI 3.1 description of the sync API, built from the survey's data dictionary."""

import datetime as dt

from village_survey import survey_fields as sf
from village_survey.core.errors import CODES
from village_survey.surveys.services import MAX_BATCH


def _answer_schema(spec, today):
    low, high = sf.allowed_range(spec.key, today)
    if spec.type in ("text",):
        schema = {"type": "string", "maxLength": spec.max_length}
        if spec.characters:
            schema["pattern"] = sf.characters_pattern(spec.key)
    elif spec.type == "code":
        schema = {"type": "string", "enum": list(spec.codes)}
    elif spec.type == "bool":
        schema = {"type": "boolean"}
    elif spec.type == "date":
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "integer" if spec.type in ("int", "year") else "number"}
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
    if spec.unit:
        schema["description"] = spec.unit
    return {"anyOf": [schema, {"type": "null"}]}


def openapi_document(today=None):
    """The sync API's document with the read API for other platforms added (api_tokens.openapi)."""
    from village_survey.api_tokens.openapi import add_read_api

    return add_read_api(_sync_document(today))


def _sync_document(today=None):
    today = today or dt.date.today()
    answers = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: _answer_schema(spec, today) for key, spec in sf.FIELDS.items()},
    }
    error = {"type": "object", "required": ["error", "status", "code"],
             "properties": {"error": {"type": "string", "description": "for people, in the user's language"},
                            "status": {"type": "integer"},
                            "code": {"type": "string", "enum": sorted(set(CODES.values()) | {"csrf_expired",
                                                                                             "own_submission"}),
                                     "description": "for programs: decide on this, never on the message"}}}
    messages = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    state = {
        "type": "object",
        "required": ["uuid", "status", "revision", "year", "form_version", "household_id", "answers"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["draft", "submitted", "approved", "returned"]},
            "revision": {"type": "integer"},
            "reviewer_comment": {"type": ["string", "null"]},
            "year": {"type": "integer"},
            "form_version": {"type": "integer"},
            "village_id": {"type": "integer"},
            "household_id": {"type": "integer"},
            "answers": {"$ref": "#/components/schemas/Answers"},
            "updated_at": {"type": "string"},
            "photos": {"type": "array", "items": {"type": "object"}},
            "warnings": {"$ref": "#/components/schemas/Messages"},
        },
    }
    put_body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["form_version", "year", "status", "answers"],
        "properties": {
            "form_version": {"type": "integer", "enum": list(sf.SUPPORTED_FORM_VERSIONS)},
            "year": {"type": "integer", "minimum": 2000, "maximum": today.year + 1},
            "village_id": {"type": "integer", "description": "for a new household"},
            "household_id": {"type": "integer", "description": "a known household"},
            "status": {"type": "string", "enum": ["draft", "submitted"]},
            "answers": {"$ref": "#/components/schemas/Answers"},
            "started_at": {"type": "string", "format": "date-time",
                           "description": "when the phone started the survey (ISO 8601 with its zone); kept "
                                          "when the survey is created, ignored if the phone's clock is "
                                          "more than a day ahead"},
            "base_revision": {"type": "integer", "minimum": 0,
                              "description": "the server revision the answers start from (0: none). If a "
                                             "reviewer returned the survey after it, the change is refused "
                                             "(409 with `state`) until the surveyor has read the comment"},
        },
    }
    batch_item = put_body | {
        "required": ["uuid"] + put_body["required"],
        "properties": {"uuid": {"type": "string", "format": "uuid"}} | put_body["properties"],
    }
    csrf = [{"session": [], "csrf": []}]
    json_error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    uuid_param = {"name": "uuid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}

    def state_response(description):
        return {"description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SurveyState"}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "village_survey sync API", "version": "1",
                 "description": "Idempotent on the survey UUID. Send the CSRF token from /session in "
                                "the X-CSRFToken header with every PUT."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
            "schemas": {"Answers": answers, "Error": error, "Messages": messages, "SurveyState": state,
                        "SurveyPut": put_body, "SurveyBatchItem": batch_item},
        },
        "paths": {
            "/session": {"get": {"summary": "The user, role, area, a fresh CSRF token, the form version",
                                 "security": [{"session": []}],
                                 "responses": {"200": {"description": "the session"}, "401": json_error | {
                                     "description": "not logged in"}}}},
            "/villages": {"get": {"summary": "Villages and known households in the user's area",
                                  "security": [{"session": []}],
                                  "responses": {"200": {"description": "the villages"}}}},
            "/surveys": {"get": {
                "summary": "The states of the user's surveys changed since a time, oldest change first",
                "description": "The surveys the user started or submitted in their area and, for users who "
                               "survey, every returned survey of their area; each as GET /surveys/{uuid} "
                               "answers it. Paged in the stable order (updated_at, id): follow `next_cursor` "
                               "until it is null, then send the `server_time` (the same on every page of a "
                               "pull) as the next `updated_since`. It lies a minute before the answer, so a "
                               "survey may come twice; keep the one with the higher revision.",
                "security": [{"session": []}],
                "parameters": [
                    {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date-time"},
                     "description": "ISO 8601 with its time zone (Z or an offset); without it, every survey"},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"},
                     "description": "the `next_cursor` of the page before"},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}],
                "responses": {
                    "200": {"description": "one page", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["surveys", "next_cursor", "server_time"],
                        "properties": {
                            "surveys": {"type": "array", "items": {"$ref": "#/components/schemas/SurveyState"}},
                            "next_cursor": {"type": ["string", "null"]},
                            "server_time": {"type": "string", "format": "date-time"}}}}}},
                    "400": json_error | {"description": "updated_since without a time zone or not a time, a "
                                                        "cursor the server did not give, a limit outside 1–500"},
                    "401": json_error | {"description": "not logged in"}}}},
            "/todo": {"get": {
                "summary": "The user's to-do: returned surveys, drafts, and per village of the area the "
                           "households not surveyed this year, each naming its latest earlier survey",
                "security": [{"session": []}],
                "responses": {"200": {"description": "the to-do"},
                              "401": json_error | {"description": "not logged in"}}}},
            "/todo/previous": {"get": {
                "summary": "The answers of the latest earlier survey of each household of a village not "
                           "surveyed this year (where a new survey may start), by household id",
                "security": [{"session": []}],
                "parameters": [{"name": "village", "in": "query", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the answers"},
                              "400": json_error | {"description": "no village named"},
                              "404": json_error | {"description": "outside the user's area"}}}},
            "/surveys/{uuid}": {
                "parameters": [uuid_param],
                "get": {"summary": "The server's state of a survey", "security": [{"session": []}],
                        "responses": {"200": state_response("the survey"),
                                      "404": json_error | {"description": "unknown or outside the area"}}},
                "put": {
                    "summary": "Create or update a survey (idempotent)",
                    "security": csrf,
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/SurveyPut"}}}},
                    "responses": {
                        "200": state_response("updated, or the same content again (nothing changed)"),
                        "201": state_response("created"),
                        "400": json_error | {"description": "not a JSON object, or a missing or stale CSRF token"},
                        "403": json_error | {"description": "the role may not write surveys"},
                        "404": json_error | {"description": "outside the user's area"},
                        "409": json_error | {"description": "under review or approved, and the content differs"},
                        "422": {"description": "invalid answers", "content": {"application/json": {"schema": {
                            "type": "object", "properties": {
                                "errors": {"$ref": "#/components/schemas/Messages"},
                                "warnings": {"$ref": "#/components/schemas/Messages"}}}}}},
                    },
                },
            },
            "/surveys/batch": {
                "post": {
                    "summary": f"Several surveys at once (1 to {MAX_BATCH}), each applied and committed as its "
                               "own PUT; one refusal does not stop the others",
                    "security": csrf,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "additionalProperties": False, "required": ["surveys"],
                        "properties": {"surveys": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                                   "items": {"$ref": "#/components/schemas/SurveyBatchItem"}}}}}}},
                    "responses": {
                        "200": {"description": "one result per survey, in order: the status and body its PUT "
                                               "would have answered",
                                "content": {"application/json": {"schema": {
                                    "type": "object", "required": ["results"],
                                    "properties": {"results": {"type": "array", "items": {
                                        "type": "object", "required": ["uuid", "status", "body"],
                                        "properties": {
                                            "uuid": {"type": ["string", "null"]},
                                            "status": {"type": "integer", "enum": [200, 201, 400, 403, 404, 409, 422]},
                                            "body": {"anyOf": [{"$ref": "#/components/schemas/SurveyState"},
                                                               {"$ref": "#/components/schemas/Error"}]}}}}}}}}},
                        "400": json_error | {"description": "not {\"surveys\": [...]} with 1 to "
                                                            f"{MAX_BATCH} surveys, or a missing or stale CSRF token"},
                        "401": json_error | {"description": "not logged in"},
                    },
                },
            },
            "/surveys/{uuid}/withdraw": {
                "parameters": [uuid_param],
                "post": {
                    "summary": "Withdraw one's own submission while no reviewer has decided: it becomes a draft",
                    "security": csrf,
                    "responses": {
                        "200": state_response("withdrawn: the survey is a draft again"),
                        "403": json_error | {"description": "submitted by someone else, or the role may not survey"},
                        "404": json_error | {"description": "unknown or outside the area"},
                        "409": json_error | {"description": "not waiting for review (a reviewer decided)"},
                    },
                },
            },
            "/surveys/{uuid}/reopen": {
                "parameters": [uuid_param],
                "post": {
                    "summary": "Reopen an approved survey (reviewers, admins): it is returned to the surveyor "
                               "with the reason as the reviewer's comment, and logged",
                    "security": csrf,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["reason"],
                        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}}}}}},
                    "responses": {
                        "200": state_response("reopened: the survey is returned"),
                        "400": json_error | {"description": "not a JSON object, or a missing or stale CSRF token"},
                        "403": json_error | {"description": "the role may not review"},
                        "404": json_error | {"description": "unknown or outside the area"},
                        "409": json_error | {"description": "the survey is not approved"},
                        "422": json_error | {"description": "no reason given"},
                    },
                },
            },
            "/surveys/{uuid}/photos/{photo_uuid}": {
                "parameters": [uuid_param, {"name": "photo_uuid", "in": "path", "required": True,
                                            "schema": {"type": "string", "format": "uuid"}},
                               {"name": "kind", "in": "query", "schema": {
                                   "type": "string", "enum": ["house", "roof", "stove", "other"]}}],
                "put": {
                    "summary": "Upload a photo (idempotent on photo_uuid)",
                    "security": csrf,
                    "requestBody": {"required": True, "content": {
                        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                        "image/webp": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"200": {"description": "the same photo again"},
                                  "201": {"description": "stored"},
                                  "409": json_error | {"description": "another photo has this identifier"},
                                  "413": json_error | {"description": "too large"},
                                  "415": json_error | {"description": "not a JPEG, PNG or WebP image"}},
                },
            },
        },
    }
