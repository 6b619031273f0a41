"""Farmhouse surveys: the form, its validation, the lifecycle with revisions, photos and the sync API."""
