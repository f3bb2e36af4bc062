import os

# tests see one CPU device unless a test starts its own subprocess with more
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
