"""op_db entries whose first float32 sample Ember gets wrong (mismatch) or crashes on,
each with the reason. tests/conformance/test_opinfo.py fails on a mismatch or crash
not listed here, and on a listed entry that passes (remove it then): the list never
goes stale. A listed mismatch is a bug to fix, not a place to park it.

Entries that run partly or wholly eagerly (partial/eager) need no listing: the runner
records why (the fallback's reason, or the graph's eager reason), and
docs/conformance.md groups them by the missing feature.
"""

KNOWN: dict[str, str] = {
}
