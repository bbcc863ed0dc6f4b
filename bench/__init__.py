"""Ember's benchmark suite: ``python bench/run.py`` (also ``ember bench``, ``make bench``)."""
