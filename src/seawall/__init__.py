"""Seawall: a nation's cyber-resilience node (assess, intel, embassy)."""

__version__ = "0.1.0"
