"""Graph -> Graph passes, one per file, run by the pass manager."""

from .manager import PIPELINES, PassContext, PassManager, register_pass

# The default CPU pipeline. Simplify before CSE so that folded constants merge;
# DCE before partition/fusion so that dead ops neither fall back nor fuse.
PIPELINES["default"] = ["simplify", "cse", "dce", "partition", "fusion"]


def load_all() -> None:
    from . import cse, dce, fusion, partition, simplify  # noqa: F401  (registration)


__all__ = ["PIPELINES", "PassContext", "PassManager", "register_pass", "load_all"]
