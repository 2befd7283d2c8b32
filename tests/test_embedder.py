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


def test_the_first_export_prints_no_expected_noise(tmp_path) -> None:
    """The one-time ONNX export (fp32, then int8) in a fresh process prints nothing it always
    prints (tracer notes, the quantisation hint, a weight-loading bar)."""
    import subprocess
    import sys

    from tests.servers import REPO_ROOT

    script = (
        "import sys; from pathlib import Path\n"
        "from vectorstore.embeddings import bundled_model_dir, export_onnx\n"
        "print(export_onnx(bundled_model_dir(), Path(sys.argv[1]), quantize=True).name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "models")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("-int8.onnx")
    assert done.stderr == ""


def test_other_warnings_still_show_during_the_export(capfd) -> None:
    import logging
    import warnings

    from vectorstore.embeddings import _expected_export_noise_silenced

    handlers = list(logging.getLogger().handlers)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with _expected_export_noise_silenced():
            for message in (
                "Converting a tensor to a Python boolean might cause the trace to be incorrect",
                "the exporter found something new",
            ):
                warnings.warn(message, stacklevel=1)
            logging.warning("Please consider to run pre-processing before quantization. Refer…")
            logging.warning("an actionable quantisation problem")
    assert [str(w.message) for w in seen] == ["the exporter found something new"]
    err = capfd.readouterr().err
    assert "warning: an actionable quantisation problem" in err and "pre-processing" not in err
    assert logging.getLogger().handlers == handlers  # the process's logging is left as it was


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "torch"])
def test_a_query_pooled_without_some_words(backend: str, base_settings: Settings) -> None:
    """One pass gives the query's vector and its vector without the dropped words: the first
    is ``embed_query``'s, the second moves away from the dropped word's meaning, and every
    backend computes the same function (fp32 ONNX = torch)."""
    embedder = load_embedder(base_settings.model_copy(update={"embedding_backend": backend}))
    text = "Hi there! Which hotline did the two sides decide to revive?"
    hotline = (text.index("hotline"), text.index("hotline") + len("hotline"))
    whole, without = embedder.embed_query_without(text, [hotline])
    assert float(whole @ embedder.embed_query(text)) >= 0.9999
    assert np.isclose(np.linalg.norm(without), 1.0, atol=1e-5)
    channel = embedder.embed_query("a telephone hotline")
    assert float(whole @ channel) - float(without @ channel) > 0.02
    # Dropping nothing changes nothing; a span over the first word keeps [CLS] and [SEP].
    assert float(embedder.embed_query_without(text, [])[1] @ whole) >= 0.9999
    assert float(embedder.embed_query_without(text, [(0, 2)])[1] @ whole) < 0.9999
    if backend != "onnx-int8":
        reference = load_embedder(base_settings.model_copy(update={"embedding_backend": "torch"}))
        assert float(without @ reference.embed_query_without(text, [hotline])[1]) >= 0.9999
