"""Seawall: a nation's cyber-resilience node (assess, intel, embassy)."""

__version__ = "0.2.0"
