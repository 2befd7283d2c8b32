"""Keep every library off the network: models come from installed packages only."""

from __future__ import annotations

import os

#: Read by Hugging Face, Gradio and Chroma at import time, so set before importing them.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_offline_env() -> None:
    """Force offline mode before any ML / UI library is imported (they read env at import)."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
