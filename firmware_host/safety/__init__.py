"""The safety layer between every decision and every driver.

Bounds and slew limits (:mod:`.limits`), stale-signal and device watchdogs (:mod:`.watchdog`),
the E-stop latch (:mod:`.estop`), prioritised alarms (:mod:`.alarms`) and the layer that
combines them (:mod:`.layer`), configured by the frozen ``[safety]`` section (:mod:`.config`).
"""

# Load the config package first: its schema imports SafetyConfig from this package, so a
# first import of firmware_host.safety must not start inside that cycle.
import firmware_host.config  # noqa: F401, I001
from firmware_host.safety.alarms import PRIORITIES, Alarm, AlarmManager
from firmware_host.safety.config import HandLimits, MattressLimits, SafetyConfig, VibrationLimits
from firmware_host.safety.estop import EStopError, EStopLatch
from firmware_host.safety.layer import SafetyLayer
from firmware_host.safety.limits import CommandLimiter, Verdict
from firmware_host.safety.watchdog import DeviceWatchdog, StaleSignalWatchdog

__all__ = [
    "PRIORITIES", "Alarm", "AlarmManager", "CommandLimiter", "DeviceWatchdog", "EStopError",
    "EStopLatch", "HandLimits", "MattressLimits", "SafetyConfig", "SafetyLayer",
    "StaleSignalWatchdog", "Verdict", "VibrationLimits",
]
