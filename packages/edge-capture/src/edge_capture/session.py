"""run_session: one capture session from start-up checks to summary (the in-process API)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edge_capture.aws import AwsClients, check_resources, make_clients
from edge_capture.backoff import Backoff
from edge_capture.capture import CaptureLoop
from edge_capture.config import EdgeConfig
from edge_capture.errors import EdgeError
from edge_capture.ledger import Ledger
from edge_capture.results import ResultsPoller
from edge_capture.sources import FrameSource, SourceSpec, open_source
from edge_capture.spool import Spool
from edge_capture.summary import ClipOutcome, SessionSummary
from edge_capture.uploader import UploaderPool
from shared_schema import parse_key

log = logging.getLogger(__name__)


def run_session(
    config: EdgeConfig,
    *,
    on_result: Callable[[ClipOutcome], None] | None = None,
    stop: threading.Event | None = None,
    abort: threading.Event | None = None,
    on_start: Callable[[Ledger, Spool], None] | None = None,
) -> SessionSummary:
    """Capture, spool, upload and collect results; return the summary.

    1. Checks the bucket and results queue (raises before anything starts).
    2. Loads the spool a previous run left (uploaded first: oldest clips go first).
    3. Captures until ``config.duration_s`` of video, the end of a file, or ``stop``; the
       motion gate (``config.gate``) decides which clips are spooled for upload.
    4. Waits up to ``flush_timeout_s`` for the spool to empty, then up to ``result_wait_s``
       for the results of uploaded clips. Setting ``abort`` cuts both waits short.

    ``on_result`` is called from the poller thread with each clip's outcome as its result
    arrives; ``on_start`` receives the ledger and spool once running (the CLI's live view).

    Raises:
        EdgeError: configuration, missing bucket/queue, credentials, unreachable endpoint,
            or a source that cannot be opened (all before any clip is recorded).
    """
    stop = stop or threading.Event()
    abort = abort or threading.Event()
    clients: AwsClients = make_clients(
        config.endpoint_url,
        config.region,
        timeout_s=config.aws_timeout_s,
        long_poll_s=config.poll_wait_s,
    )
    check_resources(clients, config.bucket, config.results_queue)

    spool = Spool(config.spool_dir, config.spool_max_bytes, config.spool_policy)
    ledger = Ledger(config)
    if on_result is not None:
        ledger.on_result(on_result)
    for entry in spool.recover():
        ledger.add(entry, resumed=True, seq=parse_key(entry.key).seq)
    # a resumed session continues its numbering, even where its clips were all uploaded
    first_seq = spool.next_seq(config.device_id, config.session_id)
    resumed = ledger.snapshot()["resumed"]
    if resumed:
        log.info("spool: %d clip(s) from an earlier run will be uploaded first", resumed)

    source: FrameSource | None = None
    if config.duration_s > 0:
        spec = SourceSpec(
            config.source, config.width, config.height, config.fps, config.fast, config.loop
        )
        source = open_source(spec, stop)

    poller = ResultsPoller(
        clients.poll_sqs,
        clients.queue_url,
        ledger,
        device_id=config.device_id,
        session_id=config.session_id,
        wait_s=config.poll_wait_s,
    )
    uploaders = UploaderPool(
        spool,
        clients.s3,
        config.bucket,
        workers=config.uploaders,
        backoff=Backoff(config.retry_base_s, config.retry_max_s),
        on_uploaded=lambda entry, at, attempts: ledger.uploaded(entry.key, at, attempts),
        on_retry=lambda entry, exc: ledger.count(upload_retries=1),
        on_taken=lambda entry: ledger.dropped(entry.key),
    )
    # before any thread starts: the gate's mask is loaded here
    loop = CaptureLoop(
        config,
        spool,
        first_seq=first_seq,
        on_clip=lambda entry, seq, reason: ledger.add(
            entry, resumed=False, seq=seq, gate_reason=reason
        ),
        on_skipped=lambda frames: ledger.count(clips_skipped=1),
        on_dropped=lambda entry: ledger.dropped(entry.key),
        on_paused=lambda n: ledger.count(frames_paused=n),
        on_encode_error=lambda exc: ledger.count(encode_errors=1),
    )
    poller.start()
    uploaders.start()
    if on_start is not None:
        on_start(ledger, spool)
    try:
        if source is not None:
            try:
                loop.run(source, stop)
            except EdgeError as exc:
                ledger.capture_error = str(exc)
                log.error("capture stopped: %s", exc)
            finally:
                source.close()
        ledger.interrupted = stop.is_set()
        if not spool.wait_empty(config.flush_timeout_s, abort.is_set):
            waiting, busy = spool.counts()
            log.warning(
                "spool not flushed after %.0f s: %d clip(s) stay in %s for the next run",
                config.flush_timeout_s,
                waiting + busy,
                config.spool_dir,
            )
        uploaders.stop()
        if not ledger.wait_answered(config.result_wait_s, abort.is_set):
            log.warning(
                "%d uploaded clip(s) got no result within %.0f s",
                ledger.unanswered_uploaded(),
                config.result_wait_s,
            )
    finally:
        uploaders.stop(timeout=1.0)
        ledger.close()
        poller.stop()
    return ledger.summary()
