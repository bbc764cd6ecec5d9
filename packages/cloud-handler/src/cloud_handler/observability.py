"""The handler's Powertools Logger and Metrics (module level, one per process)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

SERVICE = "rollcall-cloud-handler"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "rollcall")


class _QuietEMF(AmazonCloudWatchEMFProvider):
    """EMF metrics that POWERTOOLS_METRICS_DISABLED silences entirely."""

    def add_cold_start_metric(self, context: Any) -> None:
        # Powertools prints this one even with POWERTOOLS_METRICS_DISABLED (the benchmark
        # and `invoke` keep their stdout clean with it)
        if not is_metrics_disabled():
            super().add_cold_start_metric(context)


logger = Logger(service=SERVICE)
metrics = Metrics(provider=_QuietEMF(namespace=NAMESPACE, service=SERVICE))


def count(name: str, value: float = 1) -> None:
    """Add ``value`` to the ``name`` count metric of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def milliseconds(name: str, value: float) -> None:
    """Record a duration metric of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
