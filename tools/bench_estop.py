"""E-stop latency on real time: press the mock button during motion, time until safe.

Runs the default actuation (pyserial drivers over ptys to the device simulators, mock GPIO)
on a real clock, presses the E-stop while the bed is moving and the hand is closing, and
prints JSON: wall-clock milliseconds from the press until ``trigger_estop`` returned (every
actuator sent safe and acknowledged), and until each simulator had logged its safe-state
frame.

    python tools/bench_estop.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from firmware_host.actuation.facade import Actuation
from firmware_host.clock import RealClock
from firmware_host.config import parse_config
from firmware_host.decision import Decision
from firmware_host.events import ListSink


def one_press() -> dict[str, float]:
    """Build, move, press, measure, close; returns latencies in ms."""
    clock = RealClock()
    cfg = parse_config({"safety": {"ramp_interval_s": 0.05,
                                   "mattress": {"elevation_slew_deg_s": 10.0}},
                        "programme": {"rules": [  # the bed moves in N1, the hand grips
                            {"name": "head_up", "trigger": {"kind": "stage", "stages": ["N1"]},
                             "actions": [{"kind": "set", "target": "mattress.head",
                                          "value": 10.0}]},
                            {"name": "grip", "trigger": {"kind": "intent", "labels": ["power"]},
                             "actions": [{"kind": "grip", "target": "hand"}]}]}})
    act = Actuation.from_config(cfg, clock, ListSink())
    try:
        mattress_sim, hand_sim = act.simulators
        act.on_decisions([Decision("stage", 0, "N1", {"N1": 0.9})], clock.now())
        t_end = time.monotonic() + 0.3
        while time.monotonic() < t_end:
            act.tick(clock.now(), True)
            time.sleep(0.02)
        act.on_decisions([Decision("grip", 0, "power", {"power": 0.9}, details={"force": 0.6})],
                         clock.now())
        t_press_clock = clock.now()
        t0 = time.perf_counter()
        act.estop_button.pin.drive_low()
        returned_ms = (time.perf_counter() - t0) * 1e3
        out = {"estop_return_ms": returned_ms}
        for name, sim, action in (("mattress", mattress_sim, "safe_state"),
                                  ("hand", hand_sim, "stop")):
            frames = [f for f in sim.frames if f.action == action]
            out[f"{name}_frame_ms"] = (frames[0].t - t_press_clock) * 1e3 if frames else float("nan")
        return out
    finally:
        act.close()


def main() -> None:
    """Print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    runs = [one_press() for _ in range(args.repeats)]
    summary = {"repeats": args.repeats}
    for key in runs[0]:
        values = [r[key] for r in runs]
        summary[f"{key}_median"] = round(statistics.median(values), 3)
        summary[f"{key}_max"] = round(max(values), 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
