"""Signal sources: BrainFlow boards, the synthetic night, and file replay, all behind :class:`Source`."""
