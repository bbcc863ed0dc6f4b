import os
import sys

# Make the checkout importable (`ember`) however pytest is invoked.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every graph the suite compiles is verified after each pass and must round-trip
# through its text form (debug mode), and compile errors raise instead of quietly
# running eagerly (strict). Tests of the eager fallback turn strict off explicitly.
os.environ.setdefault("EMBER_DEBUG", "1")
os.environ.setdefault("EMBER_STRICT", "1")

# The whole session compiles into a fresh, private disk cache (never the user's
# ~/.cache/ember): EMBER_CACHE_DIR for Config.from_env, XDG_CACHE_HOME for a bare
# Config(). Each xdist worker gets its own folder; removed at exit.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_CACHE_ROOT = tempfile.mkdtemp(prefix="ember-test-cache-")
atexit.register(shutil.rmtree, _CACHE_ROOT, ignore_errors=True)
os.environ["EMBER_CACHE_DIR"] = os.path.join(_CACHE_ROOT, "ember")
os.environ["XDG_CACHE_HOME"] = _CACHE_ROOT
