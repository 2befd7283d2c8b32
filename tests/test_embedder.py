"""The ONNX encoders compute the reference model's function (sentence-transformers on torch)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Settings, load_embedder
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return [s for s in CORPUS.read_text(encoding="utf-8").split(". ") if s.strip()]


@pytest.fixture(scope="module")
def reference(sentences: list[str], base_settings: Settings) -> np.ndarray:
    torch_embedder = load_embedder(base_settings.model_copy(update={"embedding_backend": "torch"}))
    return torch_embedder.embed_documents(sentences)


@pytest.mark.parametrize(
    ("backend", "min_cosine", "min_self"),
    # int8 quantises activations per batch (dynamic ranges), so batching moves a vector a little
    [("onnx", 0.9999, 0.9999), ("onnx-int8", 0.93, 0.98)],
)
def test_onnx_backends_match_the_reference(
    backend: str, min_cosine: float, min_self: float, sentences, reference, base_settings: Settings
) -> None:
    embedder = load_embedder(base_settings.model_copy(update={"embedding_backend": backend}))
    vectors = embedder.embed_documents(sentences)
    assert vectors.shape == reference.shape == (len(sentences), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= min_cosine
    single = embedder.embed_query(sentences[0])
    assert float(single @ vectors[0]) >= min_self  # batching and padding barely matter


def test_unknown_backend_is_refused(base_settings: Settings) -> None:
    with pytest.raises(ValueError, match="Unknown embedding backend"):
        load_embedder(base_settings.model_copy(update={"embedding_backend": "gpu-magic"}))
