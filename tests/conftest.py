import os

# tests see one CPU device unless a test starts its own subprocess with more
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

from hypothesis import settings  # noqa: E402

# The hypothesis tests draw the same examples on every run, so a red CI run reproduces exactly;
# HYPOTHESIS_PROFILE=explore draws fresh ones (worth doing by hand after changing an op).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
