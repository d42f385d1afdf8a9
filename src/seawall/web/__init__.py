"""The web edge: FastAPI app, JSON API, TAXII and the server-rendered UI."""
