"""The safety layer between every decision and every driver.

Bounds and slew limits (:mod:`.limits`), stale-signal and device watchdogs (:mod:`.watchdog`),
the E-stop latch (:mod:`.estop`), prioritised alarms (:mod:`.alarms`) and the layer that
combines them (:mod:`.layer`), configured by the frozen ``[safety]`` section (:mod:`.config`).

Safe states (reached on stale signal, lost device, E-stop, exception, SIGTERM/exit, close):

==============  =============================================================================
actuator        safe state
==============  =============================================================================
mattress        SAFE_STATE: motors stop and hold their current angle (no return to flat),
                vibration off, heating off; the controller does the same by itself after
                its host-silence timeout
hand (serial)   STOP: every finger stops where it is and keeps its grip force; never opens
                suddenly, never closes further (the hand's own 300 ms watchdog does the same)
servo_hand      holds the current finger positions (no opening, no further closing)
vibration       motor off
==============  =============================================================================

Alarm conditions (journal ``alarm`` events, ``state`` active / cleared; status-LED codes):

=========================  ========  ========================================================
code                       priority  raised when / cleared when
=========================  ========  ========================================================
estop                      high      E-stop pressed / explicit reset after release
device_lost:<name>         high      ``max_consecutive_faults`` failed exchanges or no answer
                                     for ``device_timeout_s`` / it answers a reconnection
device_unavailable:<name>  high      its port could not be opened at start (left out)
signal_stale               medium    signal not OK for ``stale_signal_s`` / OK again for
                                     ``resume_after_s``
held_safe                  medium    :meth:`SafetyLayer.safe_state` with a hold (e.g. the stage
                                     chain failed) / signal OK for ``resume_after_s``
command_refused:<name>     low       a request was refused (bad value, unknown action) / the
                                     next command to that actuator is sent
=========================  ========  ========================================================

LED codes (:func:`actuators.gpio_devices.led_colour`, after IEC 60601-1-8): high — red
flashing 2 Hz; medium — yellow flashing 0.5 Hz; low — cyan steady; no alarm but held safe —
blue steady; running — green steady. A single LED blinks the same rates (low: double blink,
safe: steady on, running: 0.1 s blip every 2 s).
"""

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
