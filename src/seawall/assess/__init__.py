"""Maturity: CMM and GCI assessments, benchmarking, gaps, roadmaps and reports."""
