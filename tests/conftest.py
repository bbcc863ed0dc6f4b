import os
import sys

# Make the checkout importable (`ember`) however pytest is invoked.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
