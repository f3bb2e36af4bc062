"""A worker for the 2-process tests (started by the launcher or directly). Prints JSON lines.

    collectives+train   every collective's result, then DDP training against a one-process run
    die                 rank 1 exits after the first collective; rank 0 keeps reducing
"""
import json
import os
import sys
import time

import jtorch as torch
import jtorch.distributed as dist
import jtorch.nn as nn
from jtorch.utils.data import DataLoader, TensorDataset
from jtorch.utils.data.distributed import DistributedSampler


def emit(**kw):
    """One result: a line of RESULT_DIR/<rank>.jsonl (the ranks share stdout, and lines may interleave)."""
    line = json.dumps(kw) + "\n"
    out = os.environ.get("RESULT_DIR")
    if out is None:
        print("RESULT " + line, end="", flush=True)
        return
    with open(os.path.join(out, "%s.jsonl" % os.environ["RANK"]), "a") as f:
        f.write(line)


def collectives(rank, world):
    base = torch.tensor([1.0, -2.0, 3.0]) * (rank + 1)
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        x = base.clone()
        dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
        emit(what="all_reduce_" + op, rank=rank, value=x.tolist())
    x = torch.tensor([rank + 1, 10 * (rank + 1)])
    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    emit(what="all_reduce_int", rank=rank, value=x.tolist(), dtype=str(x.dtype))
    x = base.clone()
    work = dist.all_reduce(x, async_op=True)
    work.wait()
    emit(what="all_reduce_async", rank=rank, value=x.tolist())
    x = base.clone()
    dist.broadcast(x, src=1)
    emit(what="broadcast", rank=rank, value=x.tolist())
    out = [torch.zeros(3) for _ in range(world)]
    dist.all_gather(out, base)
    emit(what="all_gather", rank=rank, value=[o.tolist() for o in out])
    out = torch.zeros(world * 3)
    dist.all_gather_into_tensor(out, base)
    emit(what="all_gather_into_tensor", rank=rank, value=out.tolist())
    out = torch.zeros(2)
    dist.reduce_scatter_tensor(out, torch.arange(4.0) * (rank + 1))
    emit(what="reduce_scatter_tensor", rank=rank, value=out.tolist())
    out = torch.zeros(2)
    dist.reduce_scatter(out, [torch.full((2,), float(rank + 1)), torch.full((2,), 10.0 * (rank + 1))])
    emit(what="reduce_scatter", rank=rank, value=out.tolist())
    objs = [None] * world
    dist.all_gather_object(objs, {"rank": rank, "tag": "r%d" % rank})
    emit(what="all_gather_object", rank=rank, value=objs)
    lst = ["from", rank] if rank == 0 else [None, None]
    dist.broadcast_object_list(lst, src=0)
    emit(what="broadcast_object_list", rank=rank, value=lst)
    dist.barrier()
    emit(what="env", rank=rank, value=[dist.get_rank(), dist.get_world_size(), dist.is_initialized(),
                                       dist.get_backend(), os.environ["LOCAL_RANK"], os.environ["LOCAL_WORLD_SIZE"]])


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


def train(rank, world):
    g = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(48, 4, generator=g), torch.randint(0, 3, (48,), generator=g))
    model = build()
    if rank == 1:   # DDP must start every rank from rank 0's weights
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(3.0)
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(data, batch_size=6, sampler=DistributedSampler(data, shuffle=False))
    losses = []
    for x, y in loader:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(ddp(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # no_sync: local gradients differ between ranks; the next synced backward averages them
    opt.zero_grad()
    x, y = data[rank * 6:(rank + 1) * 6]
    with ddp.no_sync():
        nn.functional.cross_entropy(ddp(x), y).backward()
    local = model[0].weight.grad.clone()
    gathered = [torch.zeros_like(local) for _ in range(world)]
    dist.all_gather(gathered, local)
    emit(what="no_sync_differs", rank=rank, value=not torch.allclose(gathered[0], gathered[1]))
    nn.functional.cross_entropy(ddp(x), y).backward()
    dist.all_gather(gathered, model[0].weight.grad)
    emit(what="synced_equal", rank=rank, value=torch.equal(gathered[0], gathered[1]))
    emit(what="trained", rank=rank, value=[p.detach().reshape(-1).tolist() for p in model.parameters()],
         losses=losses)
    if rank == 0:   # the same steps in one process, with both ranks' rows in each batch
        ref = build()
        ropt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
        for x, y in DataLoader(data, batch_size=6 * world):
            ropt.zero_grad()
            nn.functional.cross_entropy(ref(x), y).backward()
            ropt.step()
        emit(what="reference", rank=rank, value=[p.detach().reshape(-1).tolist() for p in ref.parameters()])


def die(rank, world):
    x = torch.ones(2)
    dist.all_reduce(x)
    emit(what="first", rank=rank, value=x.tolist())
    if rank == 1:
        os._exit(3)
    start = time.time()
    while time.time() - start < 120:
        time.sleep(0.2)
        dist.all_reduce(x)
    emit(what="never", rank=rank)


def main():
    # a common order: ask about devices first (this starts JAX's backends), then join the group
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dist.init_process_group("gloo")
    emit(what="device", rank=dist.get_rank(), value=device)
    rank, world = dist.get_rank(), dist.get_world_size()
    for mode in sys.argv[1].split("+"):
        {"collectives": collectives, "train": train, "die": die}[mode](rank, world)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
