"""``cloud-handler bench``: warm service time, cold start, runner throughput, naive baseline."""
