"""Load `torch.save` files and plain pickles without running code from them.

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

`load_pickle_file` does the same for plain pickle files (the GNN rollouts and their spec
pickles), with the allowlist the caller gives: their globals are named through the stack
(protocol 4's STACK_GLOBAL), resolved from the opcodes when both names are pushed as literal
strings just before it, and refused otherwise. `is_state_dict` tells model weights (a mapping
of tensors) from a dataset by the same reading.
"""

from __future__ import annotations

import collections
import io
import pickle
import pickletools
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from extract.errors import InputFileError

DATASET_CLASS = "collab_env.sim.boids_gnn_temp.animal_simulation.AnimalTrajectoryDataset"
# the same class pickled from another checkout, as a top-level module
DATASET_CLASS_TOP_LEVEL = "animal_simulation.AnimalTrajectoryDataset"


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
    DATASET_CLASS_TOP_LEVEL: AnimalTrajectoryDataset,
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


_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
    | {"STRING", "BINSTRING", "SHORT_BINSTRING"}
)


def _globals_named(path: Path, opcodes: Iterable[tuple], stack_names: bool) -> list[str]:
    """The globals (`module.name`) the opcodes name, in order, without executing them. A
    STACK_GLOBAL is resolved (with stack_names) when the two pushes just before it are
    literal strings or memo copies of them; anything else could compute a name: refused."""
    names: list[str] = []
    memo: dict[int, str | None] = {}
    pushed: list[str | None] = []  # the latest pushes: a known string, or None
    for opcode, arg, _ in opcodes:
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            names.append(str(arg).replace(" ", "."))
            pushed = [None]
        elif name in _STRING_OPS:
            pushed = [*pushed[-1:], arg if isinstance(arg, str) else None]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed = [*pushed[-1:], memo.get(arg)]
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif name == "STACK_GLOBAL":
            if not stack_names:
                raise InputFileError(
                    path,
                    "refused: the pickle looks up a global by a computed name (STACK_GLOBAL)",
                    "torch.save never writes that; the file may be malicious",
                )
            if len(pushed) < 2 or pushed[-2] is None or pushed[-1] is None:
                raise InputFileError(
                    path,
                    "refused: the pickle looks up a global by a name it computes",
                    "pickle.dump never writes that; the file may be malicious",
                )
            names.append(f"{pushed[-2]}.{pushed[-1]}")
            pushed = [None]
        elif name.startswith("EXT"):
            raise InputFileError(path, "refused: the pickle names a global by extension code")
        elif name != "FRAME":
            pushed = [None]
    return names


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
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_data_member(path, archive)) as data:
            return set(_globals_named(path, pickletools.genops(data), stack_names=False))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise InputFileError(
            path, f"damaged torch.save archive ({exc})", "re-copy the file"
        ) from exc


def is_state_dict(path: Path) -> bool:
    """Whether a torch.save file holds model weights (a state dict): its top-level object is a
    dict or OrderedDict and it names only torch's tensor globals. Read from the opcodes,
    nothing executed; False for anything else, unreadable files included (the dataset
    family then refuses those with the reason)."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive, archive.open(_data_member(path, archive)) as data:
            opcodes = (
                op for op in pickletools.genops(data) if op[0].name not in ("PROTO", "FRAME")
            )
            first = next(opcodes)
            if first[0].name == "EMPTY_DICT":
                names = set(_globals_named(path, opcodes, stack_names=False))
            elif first[0].name == "GLOBAL" and first[1] == "collections OrderedDict":
                names = {"collections.OrderedDict", *_globals_named(path, opcodes, False)}
            else:
                return False
    except (InputFileError, zipfile.BadZipFile, ValueError, EOFError, OSError, StopIteration):
        return False
    return "torch._utils._rebuild_tensor_v2" in names and names <= _TORCH_GLOBALS


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


def _storage_from_bytes(data: bytes) -> object:
    """`torch.storage._load_from_bytes` restricted: a tensor storage saved (legacy torch.save)
    inside a plain pickle, loaded by torch's restricted unpickler."""
    import torch

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _rebuild_tensor_v2(*args: object) -> object:
    import torch._utils

    return torch._utils._rebuild_tensor_v2(*args)


# Globals of numpy arrays and torch tensors pickled with plain `pickle` (the GNN rollouts).
ARRAY_GLOBALS: dict[str, object] = {
    **{k: v for k, v in _EXTRA_GLOBALS.items() if k.startswith("numpy")},
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch.storage._load_from_bytes": _storage_from_bytes,
    "collections.OrderedDict": collections.OrderedDict,
}


class _Unpickler(pickle.Unpickler):
    """Resolves exactly the allowed globals; any other is an error, never imported."""

    def __init__(self, file: io.BufferedReader, allowed: Mapping[str, object]) -> None:
        super().__init__(file)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> object:
        try:
            return self.allowed[f"{module}.{name}"]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def load_pickle_file(path: Path, allowed: Mapping[str, object], what: str) -> object:
    """The object in a plain pickle file, unpickled without running code from it: refused
    unread when it names a global outside `allowed` (`what` says what was expected)."""
    if not path.is_file():
        raise InputFileError(path, "the file is missing")
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty", "re-copy the file")
    try:
        with path.open("rb") as data:
            names = _globals_named(path, pickletools.genops(data), stack_names=True)
    except (ValueError, EOFError, OSError) as exc:
        raise InputFileError(
            path, f"not a readable pickle (truncated, or another format: {exc})", "re-copy it"
        ) from exc
    refused = sorted(set(names) - set(allowed))
    if refused:
        raise InputFileError(
            path,
            f"refused to load: the pickle references {', '.join(refused)}, "
            "which is not an allowed global",
            f"a pickle can run code when loaded; {what} may only reference "
            + (", ".join(sorted(allowed)) if allowed else "builtin values"),
        )
    try:
        with path.open("rb") as data:
            return _Unpickler(data, allowed).load()
    except Exception as exc:  # anything the restricted unpickling raises is a bad file
        raise InputFileError(path, f"not a readable pickle ({exc})", "re-copy it") from exc
