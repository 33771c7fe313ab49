"""The actuation side: programme → safety layer → drivers, built from config.

``kinds`` is the device-kind table (one entry per kind of actuator: how to tell it is
configured, how to build it, its safe state); ``facade.Actuation`` is what the loop calls;
``dry`` records commands without devices (replay); ``config`` is ``[actuators]``. A change to
what the bed or the hand does belongs in ``firmware_host/programme``; a new limit in
``firmware_host/safety``; a new wire protocol or driver in ``actuators/``.
"""
