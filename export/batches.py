"""`collate_windows`: DataLoader batches of windows in one buffer.

PyTorch's default collate stacks each field of a batch into a tensor of its own; a batch made
in a DataLoader worker then reaches the main process as one shared-memory segment per tensor
(six for a window), each passed as a file descriptor over a socket, about half a millisecond
apiece. With windows of a few kB that transfer, not reading, is most of a worker's time.
`collate_windows` stacks the same fields into views of one buffer, so a batch crosses as one
segment. The batch holds the same tensors (names, shapes, dtypes, values) as the default's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.utils.data import get_worker_info

from export.errors import ExportError

ALIGN = 8  # bytes: every field starts at a multiple of the largest element size (int64)


def collate_windows(windows: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack windows (dicts of tensors of equal shapes) into a batch whose tensors are views
    of one buffer, in shared memory when made in a DataLoader worker."""
    if not windows:
        raise ExportError("an empty batch: no windows to collate")
    layout = []
    size = 0
    for name, first in windows[0].items():
        shapes = {tuple(window[name].shape) for window in windows}
        if len(shapes) > 1:
            raise ExportError(
                f"windows of different shapes in one batch ({name}: "
                f"{', '.join(map(str, sorted(shapes)))}): give TrajectoryWindows max_agents= "
                "so that episodes with different numbers of agents batch together"
            )
        shape = (len(windows), *first.shape)
        size = math.ceil(size / ALIGN) * ALIGN
        nbytes = math.prod(shape) * first.element_size()
        layout.append((name, first.dtype, shape, size, nbytes))
        size += nbytes
    buffer = torch.empty(size, dtype=torch.uint8)
    if get_worker_info() is not None:
        buffer.share_memory_()
    batch = {}
    for name, dtype, shape, start, nbytes in layout:
        view = buffer[start : start + nbytes].view(dtype).view(shape)
        torch.stack([window[name] for window in windows], out=view)
        batch[name] = view
    return batch
