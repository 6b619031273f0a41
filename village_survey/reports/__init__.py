"""PDF reports: the village evaluation report and the annual county and city reports."""
