"""HTTP routes: thin adapters from requests to the platform (``functions.http.deps``)."""
