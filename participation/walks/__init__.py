"""Marches exploratoires (exploratory walks): see models.py for the domain, views.py for routes."""
