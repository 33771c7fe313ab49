"""Device drivers, wire protocols and device simulators. Hardware only through gpiozero/pyserial."""
