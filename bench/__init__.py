"""Speed and load benchmarks: `python -m bench.latency`, `python -m bench.load`."""
