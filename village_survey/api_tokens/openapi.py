"""The read API for other platforms in the OpenAPI document (added to the sync API's, which
surveys/openapi.py builds)."""

from village_survey.api_tokens.reading import DEFAULT_LIMIT, MAX_LIMIT
from village_survey.scoring.criteria import DEFAULT_CRITERIA

TOKEN_CODES = ("token_missing", "token_invalid", "token_revoked", "token_expired", "token_not_accepted")
SECURITY = [{"apiToken": []}]


def _error(description):
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _page(name, item):
    return {"description": "one page", "content": {"application/json": {"schema": {
        "type": "object", "required": [name, "next_cursor"],
        "properties": {name: {"type": "array", "items": item},
                       "next_cursor": {"type": ["string", "null"],
                                       "description": "send as `cursor` for the next page; null on the last"},
                       "server_time": {"type": "string", "format": "date-time",
                                       "description": "the same on every page of a pull: the next pull's "
                                                      "updated_since"}}}}}}


PAGING = [
    {"name": "limit", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "the `next_cursor` of the page before"},
]
SINCE = {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date-time"},
         "description": "ISO 8601 with its time zone (Z or an offset): only what changed since, oldest change "
                        "first; surveys that left the approved state since come as {uuid, approved: false, "
                        "updated_at}. Rows may come twice (the server time lies a minute early)."}
YEAR = {"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}}
CRITERIA = {"name": "criteria", "in": "query", "schema": {"type": "string", "default": DEFAULT_CRITERIA},
            "description": "the criteria set"}
REMOVED = {"type": "object", "required": ["uuid", "approved", "updated_at"],
           "properties": {"uuid": {"type": "string", "format": "uuid"}, "approved": {"const": False},
                          "updated_at": {"type": "string", "format": "date-time"}}}


def _responses(page):
    return {"200": page,
            "400": _error("a parameter that is not one (updated_since without a zone, a cursor the server did "
                          "not give, a limit outside 1–%d, an unknown criteria set or level)" % MAX_LIMIT),
            "401": _error("no token (token_missing), not a token (token_invalid), revoked (token_revoked) or "
                          "expired (token_expired)"),
            "429": _error("the token's rate limit is reached (rate_limited): wait (Retry-After)")}


def add_read_api(document):
    """`document` with the read API's paths, its bearer scheme and its error codes."""
    components = document["components"]
    components["securitySchemes"]["apiToken"] = {
        "type": "http", "scheme": "bearer", "bearerFormat": "vs_<key>_<secret>",
        "description": "An API token made by a city administrator (Admin → API tokens) for one system and "
                       "one area (a county, a township or the city); read-only. Only the /read/ paths accept "
                       "it (anything else: 403 token_not_accepted); they accept nothing else (no session). "
                       "Rate-limited per token; every use is in the audit log."}
    code = components["schemas"]["Error"]["properties"]["code"]
    code["enum"] = sorted(set(code["enum"]) | set(TOKEN_CODES))
    masked = {"type": "object", "description": "the survey's answers (see Answers) without personal data: "
                                               "head_name as its family name and ** (王**), phone as *** when "
                                               "given, latitude and longitude rounded to 0.01°, notes left out"}
    components["schemas"]["ReadSurvey"] = {"anyOf": [{
        "type": "object",
        "required": ["uuid", "approved", "year", "village_id", "household_id", "answers", "updated_at"],
        "properties": {"uuid": {"type": "string", "format": "uuid"}, "approved": {"const": True},
                       "year": {"type": "integer"}, "form_version": {"type": "integer"},
                       "revision": {"type": "integer"}, "village_id": {"type": "integer"},
                       "household_id": {"type": "integer"}, "house_number": {"type": "string"},
                       "approved_at": {"type": ["string", "null"], "format": "date-time"},
                       "updated_at": {"type": "string", "format": "date-time"}, "answers": masked}}, REMOVED]}
    components["schemas"]["FarmhouseScore"] = {"anyOf": [{
        "type": "object",
        "properties": {"uuid": {"type": "string", "format": "uuid"}, "approved": {"const": True},
                       "year": {"type": "integer"}, "village_id": {"type": "integer"},
                       "household_id": {"type": "integer"}, "criteria": {"type": "string"},
                       "criteria_version": {"type": "integer",
                                            "description": "when it changes, every score was computed again: "
                                                           "read them all again (without updated_since)"},
                       "revision": {"type": "integer", "description": "the survey revision scored"},
                       "total": {"type": ["number", "null"]}, "stars": {"type": ["integer", "null"]},
                       "base_level": {"type": ["boolean", "null"]}, "zero_carbon": {"type": ["boolean", "null"]},
                       "unscorable": {"type": ["string", "null"], "description": "why it has no score"},
                       "cooking": {"type": ["string", "null"]}, "heating": {"type": ["string", "null"]},
                       "hot_water": {"type": ["string", "null"]}, "lighting": {"type": ["string", "null"]},
                       "pv": {"type": ["boolean", "null"]}, "pv_kwp": {"type": ["number", "null"]},
                       "latitude": {"type": ["number", "null"], "description": "rounded to 0.01°"},
                       "longitude": {"type": ["number", "null"], "description": "rounded to 0.01°"},
                       "gps_accuracy_m": {"type": ["number", "null"]},
                       "updated_at": {"type": "string", "format": "date-time"}}}, REMOVED]}
    components["schemas"]["AreaEvaluation"] = {
        "type": "object",
        "properties": {"level": {"type": "string", "enum": ["village", "township", "county", "city"]},
                       "id": {"type": ["integer", "null"]}, "code": {"type": ["string", "null"]},
                       "name": {"type": ["string", "null"]}, "parent_id": {"type": ["integer", "null"]},
                       "figures": {"type": "object", "description": "score, grade, indicators, star_counts, "
                                                                   "coverage, … kept up to date from the approved "
                                                                   "surveys"},
                       "mix": {"type": "object", "description": "household counts by stove, heating, hot water, "
                                                               "lighting; PV households and kWp"},
                       "finalized": {"type": ["object", "null"],
                                     "description": "the current finalized version (frozen figures): version, "
                                                    "criteria_version, finalized_at, figures"}}}
    components["schemas"]["ReadVillage"] = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                       "registered_households": {"type": "integer"},
                       "township": {"type": "object"}, "county": {"type": "object"}}}

    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    document["paths"].update({
        "/read/surveys": {"get": {
            "summary": "Approved surveys of the token's area with their answers, without personal data",
            "security": SECURITY, "parameters": [SINCE, YEAR, *PAGING],
            "responses": _responses(_page("surveys", ref("ReadSurvey")))}},
        "/read/farmhouse-scores": {"get": {
            "summary": "The farmhouse scores of the approved surveys of the token's area (stored results)",
            "security": SECURITY, "parameters": [SINCE, YEAR, CRITERIA, *PAGING],
            "responses": _responses(_page("farmhouse_scores", ref("FarmhouseScore")))}},
        "/read/evaluations": {"get": {
            "summary": "The figures of every area of a level within the token's area, with the current "
                       "finalized version of each; in code order",
            "security": SECURITY,
            "parameters": [
                {"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                 "description": "default: this year"},
                {"name": "level", "in": "query",
                 "schema": {"type": "string", "enum": ["village", "township", "county", "city"]},
                 "description": "default: the token's own level; at or below it"},
                CRITERIA, *PAGING],
            "responses": _responses(_page("areas", ref("AreaEvaluation")))}},
        "/read/villages": {"get": {
            "summary": "The villages of the token's area with their township and county",
            "security": SECURITY, "parameters": PAGING,
            "responses": _responses(_page("villages", ref("ReadVillage")))}},
    })
    document["info"]["description"] += (" The /read/ paths are for other platforms: an API token in "
                                         "Authorization: Bearer, GET only, no personal data.")
    return document
