"""Reading ``.npz`` model files of outside origin: no unpickling, sizes checked before allocating.

``numpy.load`` trusts an archive's headers: a member whose header announces a huge shape is
allocated before its bytes are read, and a damaged archive raises any of half a dozen
exception types. :func:`read_npz` reads each member's header first, refuses what cannot be
right, and raises one :class:`NpzError` whatever went wrong.
"""

from __future__ import annotations

import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: Largest uncompressed member (the shipped YASA tree models' largest array is ~1 MB).
MAX_MEMBER_BYTES = 64 << 20
#: Most members an archive may hold.
MAX_MEMBERS = 256


class NpzError(ValueError):
    """An archive that is not a readable, pickle-free ``.npz``; the message says why."""


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, by name.

    Raises
    ------
    NpzError
        Not a zip archive, damaged or truncated, a member that is not a ``.npy`` array, holds
        Python objects (pickles are never loaded), or announces more bytes than it holds or
        than :data:`MAX_MEMBER_BYTES`.
    """
    try:
        with open(path, "rb") as fh:
            if fh.read(6) == np.lib.format.MAGIC_PREFIX:
                raise NpzError("not an .npz archive (a bare .npy array)")
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise NpzError(f"{len(members)} members; at most {MAX_MEMBERS}")
            return {_name(info): _read_member(zf, info) for info in members}
    except NpzError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError, KeyError, struct.error) as exc:  # zipfile's and numpy's many ways to fail
        raise NpzError(f"not a readable .npz archive (corrupt or truncated?): {exc}") from None


def _name(info: zipfile.ZipInfo) -> str:
    if not info.filename.endswith(".npy"):
        raise NpzError(f"member {info.filename!r} is not a .npy array")
    return info.filename[:-4]


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    if info.file_size > MAX_MEMBER_BYTES:
        raise NpzError(f"member {info.filename!r} is {info.file_size} bytes; at most "
                       f"{MAX_MEMBER_BYTES}")
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise NpzError(f"member {info.filename!r} is .npy version {version}; 1.0 and 2.0 read")
        if dtype.hasobject:
            raise NpzError(f"member {info.filename!r} holds Python objects (refused: loading "
                           "them would run pickled code)")
        size = math.prod(shape) * dtype.itemsize
        if size > info.file_size:
            raise NpzError(f"member {info.filename!r} announces shape {shape} of {dtype}, more "
                           f"than its {info.file_size} bytes")
        data = fh.read(size)
    if len(data) != size:
        raise NpzError(f"member {info.filename!r} is cut short")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()
