"""jtorch's torchrun: `python -m jtorch.distributed.run --nproc-per-node N script.py [args]`.

Starts N worker processes on this node with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, GROUP_RANK, ROLE_RANK, ROLE_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
TORCHELASTIC_RUN_ID); each runs the script as `python -m jtorch run` does, so `import torch` gives
jtorch. Workers write to this process's stdout and stderr as they go. When one fails, the others
are sent SIGTERM, then SIGKILL after --term-timeout seconds, and the launcher exits 1 after
naming the failed rank; it never waits on a dead group.

Accepted and ignored (single attempt, static rendezvous): --max-restarts, --monitor-interval,
--rdzv-backend, --rdzv-id, --rdzv-conf, --redirects, --tee, --log-dir, --role, --local-addr.
Also reachable as `python -m jtorch torchrun ...` and `python -m jtorch run torchrun ...`.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

__all__ = ["main", "get_args_parser", "parse_args", "run"]


def get_args_parser():
    p = argparse.ArgumentParser(prog="torchrun", description="jtorch's torchrun: start N worker processes")
    add = p.add_argument
    add("--nnodes", "--nnodes", type=str, default="1:1", help="number of nodes, or MIN:MAX (only the max is used)")
    add("--nproc-per-node", "--nproc_per_node", dest="nproc_per_node", type=str, default="1",
        help="workers per node: a number, or auto/cpu/gpu")
    add("--node-rank", "--node_rank", dest="node_rank", type=int, default=0)
    add("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1")
    add("--master-port", "--master_port", dest="master_port", type=int, default=29500,
        help="the coordinator's port (0: a free one, single node only)")
    add("--standalone", action="store_true", help="single node, a free port on 127.0.0.1")
    add("--rdzv-backend", "--rdzv_backend", dest="rdzv_backend", default="static")
    add("--rdzv-endpoint", "--rdzv_endpoint", dest="rdzv_endpoint", default="", help="HOST:PORT of the coordinator")
    add("--rdzv-id", "--rdzv_id", dest="rdzv_id", default="none")
    add("--rdzv-conf", "--rdzv_conf", dest="rdzv_conf", default="")
    add("--max-restarts", "--max_restarts", dest="max_restarts", type=int, default=0)
    add("--monitor-interval", "--monitor_interval", dest="monitor_interval", type=float, default=0.1)
    add("--term-timeout", "--term_timeout", dest="term_timeout", type=float, default=5.0,
        help="seconds between SIGTERM and SIGKILL for the surviving workers when one failed")
    add("--start-method", "--start_method", dest="start_method", default="spawn")
    add("--role", default="default")
    add("-m", "--module", action="store_true", help="run the script argument as a module (python -m)")
    add("--no-python", "--no_python", dest="no_python", action="store_true",
        help="run the script argument as an executable, not with python")
    add("--run-path", "--run_path", dest="run_path", action="store_true")
    add("--log-dir", "--log_dir", dest="log_dir", default=None)
    add("-r", "--redirects", default="0")
    add("-t", "--tee", default="0")
    add("--local-ranks-filter", "--local_ranks_filter", dest="local_ranks_filter", default="")
    add("--local-addr", "--local_addr", dest="local_addr", default=None)
    add("training_script", help="the script (or module, with -m) each worker runs")
    add("training_script_args", nargs=argparse.REMAINDER)
    return p


def parse_args(args=None):
    return get_args_parser().parse_args(args)


def _free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _nproc(value):
    """torchrun's --nproc-per-node: a number; gpu (the GPUs); cpu (the CPUs); auto (GPUs, else CPUs)."""
    if value == "cpu":
        return os.cpu_count() or 1
    if value in ("gpu", "auto"):
        count = _gpu_count()
        if count:
            return count
        if value == "gpu":
            raise ValueError("Cuda is not available.")
        return os.cpu_count() or 1
    return int(value)


def _gpu_count():
    # without starting JAX here: the workers need the devices
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return len([v for v in visible.split(",") if v.strip()])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        return len([l for l in out.stdout.splitlines() if l.startswith("GPU ")])
    except (OSError, subprocess.SubprocessError):
        return 0


def _command(args):
    script, rest = args.training_script, list(args.training_script_args)
    if args.no_python:
        return [script] + rest
    if args.module:
        code = ("import runpy, sys; from jtorch import _import_hook; _import_hook.install(); "
                "sys.argv = [%r] + sys.argv[1:]; runpy.run_module(%r, run_name='__main__', alter_sys=True)"
                % (script, script))
        return [sys.executable, "-c", code] + rest
    return [sys.executable, "-m", "jtorch", "run", script] + rest


def run(args):
    """Start the workers of this node and watch them; the exit status."""
    nnodes = int(str(args.nnodes).split(":")[-1])
    nproc = _nproc(args.nproc_per_node)
    addr, port = args.master_addr, args.master_port
    if args.rdzv_endpoint:
        addr, _, p = args.rdzv_endpoint.partition(":")
        port = int(p) if p else port
    if args.standalone:
        addr, port, nnodes = "127.0.0.1", 0, 1
    if port == 0:
        if nnodes > 1:
            print("torchrun: --master-port 0 needs a single node", file=sys.stderr)
            return 2
        port = _free_port()
    world = nnodes * nproc
    run_id = args.rdzv_id if args.rdzv_id != "none" else uuid.uuid4().hex[:8]
    base = dict(os.environ)
    if nproc > 1 and "OMP_NUM_THREADS" not in base:
        base["OMP_NUM_THREADS"] = "1"
    workers = []
    for local_rank in range(nproc):
        rank = args.node_rank * nproc + local_rank
        env = dict(base, RANK=str(rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank), GROUP_WORLD_SIZE=str(nnodes),
                   ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(world), ROLE_NAME=args.role,
                   MASTER_ADDR=addr, MASTER_PORT=str(port), TORCHELASTIC_RUN_ID=run_id,
                   TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS=str(args.max_restarts))
        workers.append((rank, subprocess.Popen(_command(args), env=env, start_new_session=True)))
    return _watch(workers, args.monitor_interval, args.term_timeout)


def _signal_all(workers, sig):
    for _, proc in workers:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def _stop(workers, grace):
    _signal_all(workers, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(p.poll() is None for _, p in workers):
        time.sleep(0.05)
    _signal_all(workers, signal.SIGKILL)
    for _, proc in workers:
        proc.wait()


def _watch(workers, interval, grace):
    received = []

    def forward(signum, frame):
        received.append(signum)
    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            if received:
                _stop(workers, grace)
                print("torchrun: received %s, stopped the workers" % signal.Signals(received[0]).name,
                      file=sys.stderr)
                return 128 + received[0]
            failed = [(rank, p.returncode) for rank, p in workers if p.poll() not in (None, 0)]
            if failed:
                rank, code = failed[0]
                _stop(workers, grace)
                how = ("signal %s" % signal.Signals(-code).name) if code < 0 else "exit code %d" % code
                print("torchrun: worker rank %d failed (%s); the other workers were stopped" % (rank, how),
                      file=sys.stderr)
                return 1
            if all(p.poll() == 0 for _, p in workers):
                return 0
            time.sleep(interval)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def main(args=None):
    return run(parse_args(args))


if __name__ == "__main__":
    sys.exit(main())
