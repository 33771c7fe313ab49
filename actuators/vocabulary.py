"""The actuators' shared vocabulary, defined once: fingers, grips, zones, patterns, pin factories.

Wire protocols encode these names by their index here (the hand protocol sends a grip as
``GRIP_PATTERNS.index(pattern)``), so an order change is a protocol change.
"""

#: Finger order of every hand: ``set_fingers`` positions and servo pins are in this order.
#: The serial hand's wire frame carries positions in this order too.
FINGERS: tuple[str, ...] = ("thumb_flex", "thumb_rot", "index", "middle", "ring", "little")
#: Named grips a hand understands.
GRIP_PATTERNS: tuple[str, ...] = ("open", "power", "pinch", "tripod", "key", "point")
#: Mattress zones with an elevation motor.
ELEVATION_ZONES: tuple[str, ...] = ("head", "feet")
#: Mattress zones with an adjustable firmness.
FIRMNESS_ZONES: tuple[str, ...] = ("head", "torso", "legs")
#: Vibration patterns of the mattress (and of the GPIO motor).
VIBRATION_PATTERNS: tuple[str, ...] = ("off", "continuous", "pulse", "wave")
#: gpiozero pin factories by name (``mock`` needs no hardware).
PIN_FACTORIES: tuple[str, ...] = ("mock", "default", "lgpio", "rpigpio", "pigpio", "native")
