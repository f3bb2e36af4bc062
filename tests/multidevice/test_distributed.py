"""torch.distributed across 2 processes over loopback: collectives' values, DDP training equal to
one process with the combined batch, no_sync; a dead peer fails the survivor within a timeout;
the launcher's environment and failure handling. In-process: the surface without a group,
against torch."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import torch

import jtorch

from ._util import HERE, env, free_port

WORKER = os.path.join(HERE, "_ddp_worker.py")
FAST = {"JTORCH_DIST_HEARTBEAT_TIMEOUT": "5"}
_run = {}


def _results(folder):
    rows = {}
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            for line in f:
                r = json.loads(line)
                rows[(r["what"], r["rank"])] = r
    return rows


def _launched():
    if not _run:
        folder = tempfile.mkdtemp(prefix="jtorch-ddp-")
        cmd = [sys.executable, "-m", "jtorch.distributed.run", "--nproc-per-node", "2", "--master-port",
               str(free_port()), WORKER, "collectives+train"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env(RESULT_DIR=folder, **FAST), timeout=400)
        _run.update(code=proc.returncode, rows=_results(folder), stderr=proc.stderr[-3000:])
        shutil.rmtree(folder, ignore_errors=True)
    assert _run["code"] == 0, _run["stderr"]
    return _run["rows"]


def _value(what, rank):
    rows = _launched()
    assert (what, rank) in rows, "no result %s from rank %d" % (what, rank)
    return rows[(what, rank)]["value"]


BASE = np.array([1.0, -2.0, 3.0])
RANKS = [BASE * (r + 1) for r in range(2)]
EXPECTED = {
    "all_reduce_SUM": sum(RANKS), "all_reduce_AVG": sum(RANKS) / 2, "all_reduce_MAX": np.maximum(*RANKS),
    "all_reduce_MIN": np.minimum(*RANKS), "all_reduce_PRODUCT": RANKS[0] * RANKS[1], "all_reduce_async": sum(RANKS),
    "broadcast": RANKS[1], "all_gather": np.stack(RANKS), "all_gather_into_tensor": np.concatenate(RANKS),
    "all_reduce_int": np.array([1, 10]) + np.array([2, 20]),
}


def test_two_processes_collectives_and_ddp_training():
    """One launcher run (xdist would start one per worker for tests sharing it): collectives' values
    on both ranks, DDP training equal to one process with the combined batch, no_sync."""
    rows = _launched()
    problems = []

    def check(what, rank, ok):
        if (what, rank) not in rows:
            problems.append("no result %s from rank %d" % (what, rank))
        elif not ok(rows[(what, rank)]["value"]):
            problems.append("%s on rank %d: %r" % (what, rank, rows[(what, rank)]["value"]))

    def near(expected, rtol=1e-6, atol=0.0):
        return lambda v: np.allclose(np.asarray(v, dtype=float), expected, rtol=rtol, atol=atol)
    full = np.arange(4.0) + np.arange(4.0) * 2
    ref = rows.get(("reference", 0), {}).get("value")
    for rank in range(2):
        for what, expected in EXPECTED.items():
            check(what, rank, near(expected))
        check("reduce_scatter_tensor", rank, near(full[2 * rank:2 * rank + 2]))
        check("reduce_scatter", rank, near([[3.0, 3.0], [30.0, 30.0]][rank]))
        check("all_gather_object", rank, lambda v: v == [{"rank": 0, "tag": "r0"}, {"rank": 1, "tag": "r1"}])
        check("broadcast_object_list", rank, lambda v: v == ["from", 0])
        check("env", rank, lambda v, r=rank: v == [r, 2, True, "gloo", str(r), "2"])
        check("no_sync_differs", rank, lambda v: v is True)
        check("synced_equal", rank, lambda v: v is True)
        check("trained", rank, lambda v: ref is not None and all(np.allclose(a, b, rtol=1e-5, atol=1e-6)
                                                                 for a, b in zip(v, ref)))
    check("all_reduce_int", 0, lambda v: rows[("all_reduce_int", 0)]["dtype"] == "torch.int64")
    if ("trained", 0) in rows and ("trained", 1) in rows and \
            rows[("trained", 0)]["value"] != rows[("trained", 1)]["value"]:
        problems.append("the two replicas' parameters differ after training")
    assert not problems, "\n".join(problems)


def test_a_dead_peer_fails_the_survivor_within_a_timeout(tmp_path):
    port = free_port()
    procs, start = [], time.monotonic()
    for rank in range(2):
        e = env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                RESULT_DIR=str(tmp_path), **{"JTORCH_DIST_HEARTBEAT_TIMEOUT": "3"})
        procs.append(subprocess.Popen([sys.executable, WORKER, "die"], env=e, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = []
    for p in procs:
        try:
            outs.append(p.communicate(timeout=150))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a process hung after its peer died")
    elapsed = time.monotonic() - start
    assert procs[1].returncode == 3
    assert procs[0].returncode != 0, "the survivor exited 0"
    rows = _results(str(tmp_path))
    assert ("never", 0) not in rows
    assert ("first", 0) in rows and ("first", 1) in rows, outs[0][1][-2000:]
    err = outs[0][1]
    assert "DistBackendError" in err or "another task died" in err or "heartbeat" in err, err[-2000:]
    assert elapsed < 150


def _launch(args, extra_env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "jtorch.distributed.run"] + args, capture_output=True, text=True,
                          env=env(**(extra_env or {})), timeout=timeout)


# one write per line (workers share the pipe; print's two writes could interleave when unbuffered)
PRINT_ENV = ("import os, sys, json; sys.stdout.write(json.dumps({k: os.environ.get(k) for k in ('RANK', 'LOCAL_RANK', "
             "'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK', 'ROLE_RANK', "
             "'TORCHELASTIC_RUN_ID')}) + '\\n'); sys.stdout.flush()")


def test_launcher_environment_through_python_m_jtorch_run_torchrun():
    proc = subprocess.run([sys.executable, "-m", "jtorch", "run", "torchrun", "--nproc_per_node=3", "--master_addr",
                           "127.0.0.1", "--master_port", "29533", "--no-python", sys.executable, "-c", PRINT_ENV],
                          capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = sorted((json.loads(line) for line in proc.stdout.splitlines()), key=lambda r: int(r["RANK"]))
    assert [r["RANK"] for r in rows] == ["0", "1", "2"] and [r["LOCAL_RANK"] for r in rows] == ["0", "1", "2"]
    for r in rows:
        assert (r["WORLD_SIZE"], r["LOCAL_WORLD_SIZE"], r["MASTER_ADDR"], r["MASTER_PORT"], r["GROUP_RANK"]) == \
            ("3", "3", "127.0.0.1", "29533", "0")
        assert r["ROLE_RANK"] == r["RANK"] and r["TORCHELASTIC_RUN_ID"] == rows[0]["TORCHELASTIC_RUN_ID"]


def test_launcher_multi_node_ranks():
    proc = _launch(["--nnodes", "2", "--node-rank", "1", "--nproc-per-node", "2", "--master-port", "29534",
                    "--no-python", sys.executable, "-c", PRINT_ENV])
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and sorted(r["RANK"] for r in rows) == ["2", "3"]
    assert {r["WORLD_SIZE"] for r in rows} == {"4"} and {r["GROUP_RANK"] for r in rows} == {"1"}


def test_launcher_stops_the_others_when_one_worker_fails():
    code = ("import os, sys, time\nif os.environ['RANK'] == '1':\n    sys.exit(3)\ntime.sleep(120)")
    start = time.monotonic()
    proc = _launch(["--nproc-per-node", "2", "--term-timeout", "2", "--no-python", sys.executable, "-c", code])
    assert proc.returncode == 1
    assert "worker rank 1 failed (exit code 3)" in proc.stderr
    assert time.monotonic() - start < 60


def test_launcher_runs_scripts_with_import_torch_as_jtorch(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys, torch\nprint(torch.__name__, sys.argv[1:], flush=True)\n")
    proc = _launch(["--nproc-per-node", "1", str(script), "--flag", "x"], timeout=200)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "jtorch ['--flag', 'x']"


@pytest.mark.parametrize("expr", [
    "t.distributed.is_available()", "t.distributed.is_initialized()", "t.distributed.get_rank()",
    "t.distributed.get_world_size()", "t.distributed.get_backend()", "t.distributed.barrier()",
    "t.distributed.all_reduce(t.zeros(2))", "t.distributed.broadcast(t.zeros(2), 0)",
    "repr(t.distributed.ReduceOp.SUM)", "repr(t.distributed.ReduceOp.AVG)", "t.distributed.Backend('GLOO')",
    "t.distributed.Backend.NCCL", "t.distributed.is_gloo_available()", "t.distributed.is_mpi_available()",
    "t.distributed.is_torchelastic_launched()", "t.nn.parallel.DistributedDataParallel(t.nn.Linear(2, 2))",
    "t.distributed.init_process_group('gloo', init_method='env://')",
    "t.distributed.destroy_process_group()",
])
def test_surface_without_a_group(expr, monkeypatch):
    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)

    def run(t):
        try:
            return "ok", repr(eval(expr, {"t": t}))
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e).split("\n")[0]
    assert run(jtorch) == run(torch)


def _spawned(i, fail):
    if fail and i == 1:
        raise ValueError("boom in %d" % i)


def test_spawn_reports_a_failed_process():
    import jtorch.multiprocessing as mp
    with pytest.raises(mp.ProcessRaisedException, match="boom in 1"):
        mp.spawn(_spawned, args=(True,), nprocs=2)
