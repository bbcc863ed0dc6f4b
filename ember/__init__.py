"""Ember: a deep-learning compiler for eager PyTorch programs.

>>> import ember
>>> fast = ember.compile(fn)          # or @ember.compile, or torch.compile(fn, backend="ember")
>>> print(ember.explain(fn, *args))   # graphs, graph breaks, fallbacks, kernels
"""

from .api import compile, explain
from .config import Config
from .report import Report

__version__ = "0.1.0"
__all__ = ["compile", "explain", "Config", "Report", "__version__"]
