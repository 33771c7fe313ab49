"""The device as a service: sd_notify, nights roll-over, retention, clock jumps, disk room, doctor.

Each module has one job; the decision logic (:mod:`.nights`, :mod:`.retention`,
:mod:`.diskroom`) is pure and takes the time and the sessions as arguments, so it is tested
on a fake clock across simulated days without a real disk or a real systemd.
"""
