"""DataLoader throughput, jtorch against PyTorch: batches per second over an in-memory TensorDataset of
60,000 28x28 float images and int64 labels (FashionMNIST's size), batch 64, shuffled, with num_workers 0
and 2. Each library runs in its own process. The first epoch includes starting the workers (torch forks,
jtorch starts interpreters, see NOTE [DataLoader workers are fresh interpreters]); later epochs show the
steady state (torch forks again every epoch; jtorch reuses its idle workers).

    python bench/dataloader.py [--epochs 3]

Prints one line per (library, workers) and the jtorch/torch ratios. Not part of the test run.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def measure(lib_name, workers, epochs):
    import numpy as np
    lib = __import__(lib_name)
    rng = np.random.default_rng(0)
    images = lib.from_numpy(rng.random((60000, 1, 28, 28), dtype=np.float32))
    labels = lib.from_numpy(rng.integers(0, 10, 60000).astype(np.int64))
    ds = lib.utils.data.TensorDataset(images, labels)
    lib.manual_seed(0)
    loader = lib.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers)
    rates = []
    for _ in range(epochs):
        start, n, seen = time.perf_counter(), 0, 0
        for x, y in loader:
            n += 1
            seen += x.shape[0] + y.shape[0]  # the loader's own cost: no tensor op on the batch
        assert seen == 2 * 60000
        rates.append(n / (time.perf_counter() - start))
    return rates


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--one", nargs=2, metavar=("LIB", "WORKERS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.epochs)))
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    results = {}
    for workers in (0, 2):
        for lib in ("torch", "jtorch"):
            out = subprocess.run([sys.executable, __file__, "--epochs", str(args.epochs), "--one", lib, str(workers)],
                                 capture_output=True, text=True, env=env, check=True).stdout
            rates = json.loads(out.strip().splitlines()[-1])
            results[lib, workers] = rates
            steady = sum(rates[1:]) / max(len(rates) - 1, 1)
            print("%-6s num_workers=%d  first epoch %7.1f batches/s   later epochs %7.1f batches/s"
                  % (lib, workers, rates[0], steady))
    for workers in (0, 2):
        t, j = results["torch", workers], results["jtorch", workers]
        print("num_workers=%d  jtorch/torch: first epoch %.2fx, later epochs %.2fx"
              % (workers, j[0] / t[0], (sum(j[1:]) / max(len(j) - 1, 1)) / (sum(t[1:]) / max(len(t) - 1, 1))))


if __name__ == "__main__":
    main()
