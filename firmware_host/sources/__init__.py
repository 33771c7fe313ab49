"""Signal sources behind one ``Source`` protocol (``base``): BrainFlow boards, the synthetic night
(and the neurofeedback trainee), EDF/BrainFlow-file replay and our own recorded sessions;
``paced`` makes the file-like ones follow any clock, ``factory`` builds the configured one."""
