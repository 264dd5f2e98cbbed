"""The C API from Python through ctypes: libvireo_c.so fits examples/coin.vireo
to examples/data/coin.json, and the posterior mean of p is checked against the
exact one. Usage: python3 test_capi.py <path of libvireo_c.so> <source dir>"""
import ctypes
import json
import math
import sys

lib_path, source = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(lib_path)
handle = ctypes.c_void_p
lib.vireo_version.restype = ctypes.c_char_p
lib.vireo_last_error_message.restype = ctypes.c_char_p
lib.vireo_model_from_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(handle)]
lib.vireo_model_from_string.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(handle)]
lib.vireo_data_from_json_string.argtypes = [handle, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(handle)]
lib.vireo_options_new.argtypes = [ctypes.POINTER(handle)]
lib.vireo_options_set_seed.argtypes = [handle, ctypes.c_uint64]
lib.vireo_fit_new.argtypes = [handle, handle, handle, ctypes.POINTER(handle)]
lib.vireo_fit_run.argtypes = [handle, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
lib.vireo_fit_summary_json.argtypes = [handle, ctypes.c_long, ctypes.POINTER(ctypes.c_char_p)]
for name in ("vireo_model_free", "vireo_data_free", "vireo_options_free", "vireo_fit_free"):
    getattr(lib, name).argtypes = [handle]
    getattr(lib, name).restype = None


def ok(status):
    if status != 0:
        raise SystemExit("vireo call failed (%d): %s" % (status, lib.vireo_last_error_message().decode()))


print("libvireo_c", lib.vireo_version().decode())
model, data, options, fit = handle(), handle(), handle(), handle()
ok(lib.vireo_model_from_file((source + "/examples/coin.vireo").encode(), ctypes.byref(model)))
with open(source + "/examples/data/coin.json") as f:
    text = f.read()
ok(lib.vireo_data_from_json_string(model, text.encode(), b"coin.json", ctypes.byref(data)))
ok(lib.vireo_options_new(ctypes.byref(options)))
ok(lib.vireo_options_set_seed(options, 3))
ok(lib.vireo_fit_new(model, data, options, ctypes.byref(fit)))
ok(lib.vireo_fit_run(fit, 2000, None, None))
draws = 4000
summary = ctypes.c_char_p()
ok(lib.vireo_fit_summary_json(fit, draws, ctypes.byref(summary)))
result = json.loads(summary.value.decode())  # copied: the text is owned by the fit
lib.vireo_fit_free(fit)
lib.vireo_options_free(options)
lib.vireo_data_free(data)
lib.vireo_model_free(model)

mean = result["p"]["mean"]
mean = mean[0] if isinstance(mean, list) else mean
# The exact posterior: Beta(2 + heads, 2 + tails) from the data read above.
flips = json.loads(text)["flips"]
a, b = 2 + sum(flips), 2 + len(flips) - sum(flips)
exact_mean = a / (a + b)
exact_sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
# Tolerance: the Monte Carlo error of a mean of `draws` independent draws
# (sd / sqrt(draws) = 0.124 / 63 = 0.002 for Beta(9, 5)), four of them, plus
# the guide's own error: auto_normal on logit p cannot match the Beta's skew,
# its mean lands within 0.01 of the exact one (tests/cli/sample_test.cpp
# measures the same fit). 0.01 + 4 * 0.002 = 0.018.
tolerance = 0.01 + 4 * exact_sd / math.sqrt(draws)
print("posterior mean of p: %.4f, exact %.4f, allowed %.4f" % (mean, exact_mean, tolerance))
if not abs(mean - exact_mean) < tolerance:
    raise SystemExit("FAIL: posterior mean of p off the exact Beta(%d, %d) mean" % (a, b))

# A syntax error through ctypes: a status, and the message with its place and caret.
bad = handle()
status = lib.vireo_model_from_string(b"model {\n  p ~ Beta(2, \n}\n", b"bad.vireo", ctypes.byref(bad))
message = lib.vireo_last_error_message().decode()
if status != 1 or "bad.vireo:" not in message or "^" not in message:
    raise SystemExit("FAIL: syntax error not reported (%d): %s" % (status, message))
print("ok")
