"""Sleep-staging lab code: labelled recordings, agreement metrics, training, evaluation, bench.

Import order (no cycle): ``datasets`` and ``metrics`` import device code only; ``training``
and ``evaluate`` build on them; ``bench`` on the device stager and :mod:`somnoloop_lab.bench_dsp`.
"""
