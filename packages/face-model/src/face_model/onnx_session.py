"""onnxruntime sessions with deliberate CPU settings, shared by the detector and embedders."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def session(path: str | Path, *, threads: int | None = None) -> Any:
    """A CPU InferenceSession for ``path``.

    ``threads`` (None: :func:`face_model.threads.get_threads`, else onnxruntime's default of
    one per core) sets the intra-op pool; inter-op
    parallelism is off and execution sequential, so a worker process uses exactly
    ``threads`` cores - what a Lambda vCPU share or one runner worker per core wants.
    """
    import onnxruntime as ort

    from face_model.threads import get_threads

    threads = threads or get_threads()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
        # idle pool threads spin for a while by default; on a shared or small CPU that
        # burns the time another worker needs
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
