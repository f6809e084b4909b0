"""Committed results of long (FULL) runs, shipped with the library as package data and read
with ``importlib.resources`` (written by ``scripts/full_results.py``)."""
