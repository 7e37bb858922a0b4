"""The search service: an HTTP API and a web page over named indexes (``babelir serve``)."""
