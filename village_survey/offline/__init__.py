"""The offline field app: the app shell and survey form for phones, the service worker, the manifest."""
