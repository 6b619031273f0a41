"""The shell of the app: dashboard, language switch, error pages, health check."""
