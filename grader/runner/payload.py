"""Plain data from a worker to the judge, in a format that cannot run code or inflate: no pickle.

A payload is `MAGIC`, the length of a JSON header, the header, then the raw bytes of every tensor
side by side. The header is the value itself in JSON, with tagged objects for what JSON lacks:
`{"t": [...]}` a tuple, `{"d": [[key, value], ...]}` a dict, `{"c": [real, imag]}` a complex
number and `{"T": [dtype, shape, offset, nbytes]}` a tensor whose bytes are at `offset` in the blob.

`decode` (the judge's side) trusts nothing: the sizes must add up (a tensor's bytes are exactly its
shape times its dtype's size, inside the blob, so nothing is allocated that the worker did not send),
the nesting and the number of items are bounded, strings lose lone surrogates (which would break the
result's JSON), and an error record must match `ERROR_FIELDS`. Anything else is a `PayloadError`,
which the judge turns into the student's failed result. Torch is imported only to build tensors.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from grader.failures import FailureKind

MAGIC = b"TGPAYLOAD1\n"
MAX_DEPTH = 64
MAX_ITEMS = 2_000_000
MAX_DIMS = 16
DTYPES = ("float64", "float32", "float16", "bfloat16", "complex128", "complex64", "int64", "int32", "int16",
          "int8", "uint8", "bool")
# An error record a worker may send (`sandbox.describe_exception` and the worker's own grader errors):
# every field optional, each of one type; a frame has the four fields of FRAME_FIELDS.
ERROR_FIELDS: dict[str, type | str] = {
    "kind": str, "during": str, "type": str, "message": str, "exit_code": str, "limit_mb": int, "file": str,
    "line": int, "column": int, "code": str, "function": str, "worker": str, "origin": "strings", "frames": "frames",
}
FRAME_FIELDS: dict[str, type] = {"file": str, "line": int, "function": str, "code": str}
# The kinds a worker describes itself; the others (a timeout, a signal, no result...) the zygote sees.
ERROR_KINDS = {FailureKind.EXCEPTION, FailureKind.EXIT, FailureKind.MEMORY, FailureKind.NOT_IMPLEMENTED,
               FailureKind.FILE_SIZE, FailureKind.PROCESS_LIMIT, FailureKind.SYNTAX, FailureKind.GRADER,
               FailureKind.UNSAFE}
MAX_TEXT = 20_000  # characters of any one string in an error record


class PayloadError(ValueError):
    """What came back from a worker is not a payload this judge accepts (the message says why)."""


# ----------------------------------------------------------------------------- worker side


def encode(payload: dict[str, Any]) -> bytes:
    """`{"value": plain data}` or `{"error": {...}}` as bytes (`sandbox.to_plain` made the data plain)."""
    blob: list[bytes] = []
    offset = 0

    def node(value: Any) -> Any:
        nonlocal offset
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, list):
            return [node(v) for v in value]
        if isinstance(value, tuple):
            return {"t": [node(v) for v in value]}
        if isinstance(value, dict):
            return {"d": [[k, node(v)] for k, v in value.items()]}
        if isinstance(value, complex):
            return {"c": [value.real, value.imag]}
        import torch

        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            tensor = tensor.to_dense() if tensor.layout != torch.strided else tensor
            # Its elements in order, as bytes (through uint8, which NumPy has for every dtype, bfloat16 too).
            flat = tensor.contiguous().reshape(-1).view(torch.uint8)
            try:
                data = flat.numpy().tobytes()
            except RuntimeError:  # no NumPy here: slower, byte by byte
                data = bytes(flat.tolist())
            blob.append(data)
            offset += len(data)
            return {"T": [str(tensor.dtype).removeprefix("torch."), list(tensor.shape), offset - len(data), len(data)]}
        raise TypeError(f"a value of type {type(value).__name__}, which is not plain data")

    header = json.dumps(node(payload), ensure_ascii=True).encode()
    return MAGIC + struct.pack("!Q", len(header)) + header + b"".join(blob)


# ----------------------------------------------------------------------------- judge side


def decode(data: bytes) -> dict[str, Any]:
    """The payload in `data`, validated (see the module's docstring); raises PayloadError."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise PayloadError("it is not a result the grader's worker writes")
    (size,) = struct.unpack("!Q", data[len(MAGIC):len(MAGIC) + 8])
    start = len(MAGIC) + 8
    if size > len(data) - start:
        raise PayloadError("its header claims more bytes than were sent")
    try:
        tree = json.loads(data[start:start + size])
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"its header is not valid JSON ({type(exc).__name__})") from None
    blob = memoryview(data)[start + size:]
    counter = [0]
    value = _node(tree, blob, 0, counter)
    if not isinstance(value, dict) or set(value) not in ({"value"}, {"error"}):
        raise PayloadError("it holds neither a value nor an error")
    if "error" in value:
        value["error"] = validate_error(value["error"])
    return value


def _node(tree: Any, blob: memoryview, depth: int, counter: list[int]) -> Any:
    counter[0] += 1
    if counter[0] > MAX_ITEMS or depth > MAX_DEPTH:
        raise PayloadError("it is nested too deeply or holds too many items")
    if tree is None or isinstance(tree, (bool, int)):
        return tree
    if isinstance(tree, float):
        return tree
    if isinstance(tree, str):
        return clean_text(tree)
    if isinstance(tree, list):
        return [_node(v, blob, depth + 1, counter) for v in tree]
    if not isinstance(tree, dict) or len(tree) != 1:
        raise PayloadError("it holds an object of no known kind")
    (tag, body), = tree.items()
    if tag == "t" and isinstance(body, list):
        return tuple(_node(v, blob, depth + 1, counter) for v in body)
    if tag == "d" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                    and not isinstance(pair[0], bool)):
                raise PayloadError("it holds a dict entry that is not a (str or int key, value) pair")
            key = clean_text(pair[0]) if isinstance(pair[0], str) else pair[0]
            out[key] = _node(pair[1], blob, depth + 1, counter)
        return out
    if tag == "c" and isinstance(body, list) and len(body) == 2 and all(type(v) in (int, float) for v in body):
        return complex(body[0], body[1])
    if tag == "T" and isinstance(body, list) and len(body) == 4:
        return _tensor(*body, blob=blob)
    raise PayloadError(f"it holds an object tagged {str(tag)[:20]!r}, which the grader does not know")


def _tensor(dtype: Any, shape: Any, offset: Any, nbytes: Any, blob: memoryview) -> Any:
    if dtype not in DTYPES:
        raise PayloadError(f"it holds a tensor of dtype {str(dtype)[:30]!r}, which the grader does not accept")
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise PayloadError("it holds a tensor whose shape is not a list of sizes")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (offset, nbytes)):
        raise PayloadError("it holds a tensor whose place in the data is not given")
    import torch

    kind = getattr(torch, dtype)
    itemsize = torch.empty((), dtype=kind).element_size()
    if math.prod(shape) * itemsize != nbytes or offset + nbytes > len(blob):
        raise PayloadError("it holds a tensor whose size does not match the bytes sent")
    if nbytes == 0:
        return torch.empty(shape, dtype=kind)
    raw = bytearray(blob[offset:offset + nbytes])  # a copy the tensor owns: the blob may be freed
    return torch.frombuffer(raw, dtype=kind).reshape(shape)


def validate_error(error: Any) -> dict[str, Any]:
    """An error record, checked field by field against ERROR_FIELDS (unknown fields are an error too:
    a worker writes only those)."""
    if not isinstance(error, dict):
        raise PayloadError("its error record is not a record")
    out: dict[str, Any] = {}
    for key, value in error.items():
        kind = ERROR_FIELDS.get(key)
        if kind is None:
            raise PayloadError(f"its error record has a field {str(key)[:30]!r} that no worker writes")
        if kind == "strings":
            if not (isinstance(value, list) and len(value) <= 10 and all(isinstance(v, str) for v in value)):
                raise PayloadError(f"its error record's {key} is not a short list of names")
            out[key] = [clean_text(v)[:200] for v in value]
        elif kind == "frames":
            if not (isinstance(value, list) and len(value) <= 10):
                raise PayloadError("its error record's frames are not a short list")
            out[key] = [_frame(f) for f in value]
        elif not _is(value, kind):  # type: ignore[arg-type]
            raise PayloadError(f"its error record's {key} is not a {kind.__name__}")  # type: ignore[union-attr]
        else:
            out[key] = clean_text(value)[:MAX_TEXT] if isinstance(value, str) else value
    if out.get("kind") not in ERROR_KINDS:
        raise PayloadError(f"its error record is of no known kind ({str(out.get('kind'))[:30]!r})")
    return out


def _frame(frame: Any) -> dict[str, Any]:
    if not (isinstance(frame, dict) and set(frame) <= set(FRAME_FIELDS)
            and all(_is(frame[k], FRAME_FIELDS[k]) for k in frame)):
        raise PayloadError("its error record holds a frame that is not (file, line, function, code)")
    return {k: clean_text(v)[:MAX_TEXT] if isinstance(v, str) else v for k, v in frame.items()}


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    return isinstance(value, kind)


def clean_text(text: str) -> str:
    """`text` without lone surrogates (each becomes U+FFFD), so it can always be written as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
