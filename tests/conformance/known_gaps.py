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

# Mismatches that only `ember conformance --all-samples` shows (CI runs first samples):
# open bugs, kept here so they are not lost; docs/conformance.md repeats them.
ALL_SAMPLES: dict[str, str] = {
    "complex": (
        "float32, an error input after the first (out= of dtype complex128 for float32 "
        "parts): eager raises 'Expected object of scalar type ComplexFloat'; as for "
        "multinomial below, the functionalized out= call copies into out instead "
        "(torch.compile with backend='aot_eager' does not raise either). Was hidden while "
        "complex graphs ran wholly eagerly."),
    "multinomial": (
        "float32, an error input after the first (out= of dtype float64): eager raises "
        "'multinomial expects Long "
        "tensor out'; Dynamo's functionalization turns the out= call into multinomial "
        "then a copy into out, and multinomial's meta kernel does not check out's dtype, "
        "so the compiled call casts instead of raising (torch.compile with "
        "backend='aot_eager' does the same). Was hidden while op_db's wrapper_set_seed "
        "kept Dynamo from capturing the call."),
    "aminmax": (
        "float32, an error input after the first (out= tensors of dtype float64): eager "
        "raises 'Expected out tensor to have dtype float'; as for complex and multinomial, "
        "the functionalized out= call copies into out (torch.compile with "
        "backend='aot_eager' does not raise either; backend='eager' does)."),
    # found by the first full all-samples run (5 dtypes); open
    "narrow": (
        "float32/float16, samples whose start is a 0-d tensor (a constant of the traced "
        "function): Ember's compile fails with DataDependentOutputException "
        "(_local_scalar_dense while tracing) and the graph runs eagerly; the result is "
        "eager's, but it is a compile failure (aot_eager compiles it). Also tensor_split "
        "and take."),
    "tensor_split": "as narrow: a constant tensor of split points read while tracing.",
    "take": "as narrow: a constant index tensor read while tracing.",
    "narrow_copy": (
        "float32, an error input (start + length past the end): eager raises "
        "RuntimeError, the compiled call IndexError from Dynamo's fake-tensor run."),
    "cat": (
        "float32, an error input: eager raises RuntimeError, the compiled call IndexError "
        "from Dynamo's tracing (list assignment index out of range)."),
    "amax": (
        "float32, an error input (a dim out of range): eager raises IndexError, the "
        "compiled call TorchRuntimeError from Dynamo's fake-tensor run (also amin)."),
    "amin": "as amax.",
    "addcdiv": (
        "float16/bfloat16: Dynamo rewrites torch.addcdiv into div, mul and add, each "
        "rounded to the dtype, where eager's kernel computes in f32 and rounds once; "
        "Ember never sees addcdiv (torch.compile with backend='aot_eager' differs from "
        "eager on 5 of the 12 float16 samples too)."),
    "logspace.tensor_overload": (
        "bfloat16, one element one ulp off on a sample: probably the decomposition's f32 "
        "arithmetic, as linspace's was (now a library step); not investigated yet."),
    "native_batch_norm": (
        "bfloat16, sample 5 (2 elements per channel): the updated running mean is one "
        "bf16 ulp off eager's; eager's reduced-precision statistics path differs from "
        "the f32-then-round-once update Ember emits (also _native_batch_norm_legit)."),
}
