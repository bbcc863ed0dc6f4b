import os
import sys

# Make the checkout importable (`ember`) however pytest is invoked.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every graph the suite compiles is verified after each pass and must round-trip
# through its text form (debug mode), and compile errors raise instead of quietly
# running eagerly (strict). Tests of the eager fallback turn strict off explicitly.
os.environ.setdefault("EMBER_DEBUG", "1")
os.environ.setdefault("EMBER_STRICT", "1")
