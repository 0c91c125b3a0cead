"""What gates a run: expectations, baselines, reruns and the verdict."""
