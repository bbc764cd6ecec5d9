"""The results poller: long-polls the results queue and matches each result to its clip.

Message handling (also in the README):

* a valid result for a clip of this session: recorded, then deleted from the queue
  (a second result for the same clip is counted as a duplicate and deleted too);
* a valid result for this device and session whose clip this run never saw (uploaded by a
  run that crashed): counted as ``earlier_run_results`` and deleted;
* a valid result for another device or session: counted once per message and **left** on
  the queue (its owner will read it once the visibility timeout expires);
* a message that is not a valid :class:`~shared_schema.RecognitionResult`: counted once per
  message, logged, and **left** on the queue, so that the queue's redrive policy moves it to
  the dead-letter queue where someone can look at it; deleting it would destroy the evidence,
  and it may belong to a newer producer that another consumer understands.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from edge_capture.backoff import Backoff
from edge_capture.ledger import Ledger
from shared_schema import InvalidKeyError, RecognitionResult, parse_key

log = logging.getLogger(__name__)


class ResultsPoller:
    """One thread long-polling ``queue_url`` and feeding ``ledger``."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        ledger: Ledger,
        *,
        device_id: str,
        session_id: str,
        wait_s: int = 5,
    ) -> None:
        self.sqs, self.queue_url, self.ledger = sqs, queue_url, ledger
        self.device_id, self.session_id, self.wait_s = device_id, session_id, wait_s
        self.backoff = Backoff(0.25, 5.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="results-poller", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop polling; waits up to ``timeout`` for the current long poll to return.

        Close the ledger first: results received after that are left on the queue.
        """
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        """Long-poll until stopped; after a poll that failed even with botocore's retries,
        pause (``Backoff``) before the next."""
        while not self._stop.wait(self.backoff.remaining()):
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as exc:
                self.backoff.failed()
                if self.backoff.failures == 1 or self.backoff.failures % 10 == 0:
                    log.warning("results queue poll failed (%s); trying again", exc)
            except Exception:  # a bug must not end result collection silently
                self.backoff.failed()
                log.exception("unexpected error while polling results; trying again")
            else:
                self.backoff.succeeded()

    def poll_once(self) -> int:
        """One receive (long poll) and the handling of what it returned; returns messages seen."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_s,
        )
        received_at = time.time()
        messages = response.get("Messages", [])
        to_delete = [m for m in messages if self.handle(m, received_at)]
        if to_delete:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(to_delete)
            ]
            reply = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failed in reply.get("Failed", []):
                log.warning("could not delete a result message: %s", failed.get("Message"))
        return len(messages)

    def handle(self, message: dict[str, Any], received_at: float) -> bool:
        """Process one message; True when it should be deleted from the queue."""
        message_id = str(message.get("MessageId", ""))
        try:
            result = RecognitionResult.from_message(message.get("Body", ""))
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            if self.ledger.note_message("malformed", message_id):
                first = str(exc).splitlines()[0][:200]
                log.warning(
                    "results queue: message %s is not a valid result (%s)", message_id, first
                )
            return False
        key = result.clip.key
        clip = result.clip.clip
        if clip is None:
            try:
                clip = parse_key(key)
            except InvalidKeyError:
                self.ledger.note_message("foreign", message_id)
                return False
        if self.ledger.knows(key):
            return self.ledger.record(key, result, received_at) != "closed"
        if clip.device_id == self.device_id and clip.session_id == self.session_id:
            self.ledger.count(earlier_run_results=1)
            return True
        self.ledger.note_message("foreign", message_id)
        return False
