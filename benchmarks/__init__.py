"""Performance harness. Each ``bench_<name>.py`` has a ``main()`` that prints its figures and the
ratios against baselines measured in the same run; ``python -m benchmarks`` runs them all."""
