"""torch.utils.data._utils.worker: the names live in jtorch.utils.data._worker."""
from .._worker import WorkerInfo, get_worker_info, _generate_state  # noqa: F401
