"""Governance and evaluation: the référentiel's figures, the dashboard, exports and the API."""
