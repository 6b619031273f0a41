"""API tokens and the read API for other platforms: admin pages, bearer authentication, reads."""


def init_app(app):
    """Register the token admin pages and the read API; answer the endpoints that check their
    own credentials (a bearer token, never a session), for the factory's list of endpoints that
    need no login."""
    from village_survey.api_tokens import api, views

    app.register_blueprint(views.admin_bp)
    app.register_blueprint(api.bp)
    app.before_request(api.refuse_bearer_elsewhere)
    # and the OpenAPI document, which other platforms read before they hold a token (it holds no data)
    return ({f"{api.bp.name}.{name}" for name in ("surveys", "farmhouse_scores", "evaluations", "villages")}
            | {api.OPENAPI_ENDPOINT})
