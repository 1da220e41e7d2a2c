"""Figures (matplotlib, Agg backend) and reports."""
