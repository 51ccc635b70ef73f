"""Load `torch.save` files without running code from them.

A `.pt` file is a zip archive holding a pickle, and unpickling can call any importable
function. `load_torch_file` therefore:

1. accepts only a torch.save zip archive (not empty, not truncated, one `data.pkl`);
2. lists the globals the pickle names by reading its opcodes, without executing any, and
   refuses the file if one is not in `ALLOWED_GLOBALS` (the error names the file and globals);
3. unpickles with `torch.load(weights_only=True)`, torch's restricted unpickler, with only the
   allowlisted numpy and dataset globals added to it.

The allowlist is what the 2D boids datasets need: numpy's array and scalar reconstruction
(under the numpy 1 path `numpy.core.multiarray` and the numpy 2 path `numpy._core.multiarray`),
torch's tensor reconstruction for files holding tensors, and a stand-in for the lab's dataset
class that only stores the pickled attributes. The lab's package is never imported.
"""

from __future__ import annotations

import pickle
import pickletools
import zipfile
from pathlib import Path

import numpy as np

from extract.errors import InputFileError

DATASET_CLASS = "collab_env.sim.boids_gnn_temp.animal_simulation.AnimalTrajectoryDataset"


class AnimalTrajectoryDataset:
    """Stand-in for the lab's dataset class: holds the pickled attributes, has no behaviour."""

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(
                f"{DATASET_CLASS} state must be a dict, found {type(state).__name__}"
            )
        self.__dict__.update(state)


# numpy's own reconstruction functions, whichever numpy is installed.
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]
_SCALAR = np.float64(0).__reduce__()[0]

# Globals that are resolved to our objects (added to torch's restricted unpickler).
_EXTRA_GLOBALS: dict[str, object] = {
    DATASET_CLASS: AnimalTrajectoryDataset,
    "numpy.core.multiarray._reconstruct": _RECONSTRUCT,
    "numpy._core.multiarray._reconstruct": _RECONSTRUCT,
    "numpy.core.multiarray.scalar": _SCALAR,
    "numpy._core.multiarray.scalar": _SCALAR,
    "numpy.ndarray": np.ndarray,
    "numpy.dtype": np.dtype,
}
# Globals of tensors and bytes in a torch.save pickle; torch's restricted unpickler resolves them.
_STORAGE_KINDS = (
    "Float",
    "Double",
    "Half",
    "BFloat16",
    "Long",
    "Int",
    "Short",
    "Char",
    "Byte",
    "Bool",
)
_TORCH_GLOBALS = frozenset(
    {
        "torch._utils._rebuild_tensor_v2",
        "collections.OrderedDict",
        "_codecs.encode",
        *(f"torch.{kind}Storage" for kind in _STORAGE_KINDS),
    }
)
ALLOWED_GLOBALS = frozenset(_EXTRA_GLOBALS) | _TORCH_GLOBALS
# numpy dtype instances are built from their pickled state (never named as globals); the
# restricted unpickler only builds instances of registered types.
_DTYPE_TYPES = {type(np.dtype(code)) for code in "?bhilqBHILQefd"}


def _data_member(path: Path, archive: zipfile.ZipFile) -> str:
    """The name of the pickle inside a torch.save archive (`<folder>/data.pkl`)."""
    members = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(members) != 1:
        raise InputFileError(
            path, "not a torch.save archive: it holds no single data.pkl", "is this a .pt file?"
        )
    return members[0]


def pickle_globals(path: Path) -> set[str]:
    """The globals (`module.name`) the file's pickle names, read without executing it."""
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty", "re-copy the file")
    if not zipfile.is_zipfile(path):
        raise InputFileError(
            path,
            "not a torch.save zip archive (truncated, or saved in another format)",
            "re-copy the file, or re-save it with torch.save",
        )
    names: set[str] = set()
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_data_member(path, archive)) as data:
            for opcode, arg, _ in pickletools.genops(data):
                if opcode.name in ("GLOBAL", "INST"):
                    names.add(str(arg).replace(" ", "."))
                elif opcode.name == "STACK_GLOBAL":
                    raise InputFileError(
                        path,
                        "refused: the pickle looks up a global by a computed name (STACK_GLOBAL)",
                        "torch.save never writes that; the file may be malicious",
                    )
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise InputFileError(
            path, f"damaged torch.save archive ({exc})", "re-copy the file"
        ) from exc
    return names


def load_torch_file(path: Path) -> object:
    """The object saved in a `.pt` file, unpickled without running code from it."""
    refused = sorted(pickle_globals(path) - ALLOWED_GLOBALS)
    if refused:
        raise InputFileError(
            path,
            f"refused to load: the pickle references {', '.join(refused)}, "
            "which is not an allowed global",
            "a .pt file can run code when unpickled; only the globals of 2D boids datasets "
            "(numpy arrays, tensors, the dataset class) are allowed",
        )
    import torch  # imported here: it takes seconds, and only .pt inputs need it

    allowed = [(obj, name) for name, obj in _EXTRA_GLOBALS.items()]
    allowed += [(t, f"{t.__module__}.{t.__qualname__}") for t in _DTYPE_TYPES]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[-1]
        raise InputFileError(path, f"refused by the restricted unpickler: {reason}") from exc
    except (RuntimeError, OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise InputFileError(
            path, f"not a readable torch.save file ({exc})", "re-copy the file"
        ) from exc
