"""The whole night again through the loop: for edits outside the deciding stages.

The session is replayed through the real loop (the session source, dry actuation: commands
pass the programme and the safety layer and are recorded, no device; a fake clock, as fast
as possible) once with the night's config (the *baseline*) and once with the edits. The
diff between the two isolates the edits' effect from what the replay path itself changes:
a synthetic night read back through the session source has no scripted calibration for its
grip decoder, for instance, so the baseline lacks grip decisions the recording has.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from firmware_host.config import Config
from firmware_host.control.params import with_value
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from firmware_host.whatif.recorded import final_stages, read_night


def loop_config(cfg: Config, session_dir: Path, edits: dict[str, Any]) -> Config:
    """``cfg`` reading ``session_dir`` through the session source, with ``edits`` applied.

    Raises
    ------
    firmware_host.control.params.ParamError
        An edit names an unknown key or an invalid value.
    """
    cfg = with_value(cfg, "source.kind", "session")
    cfg = with_value(cfg, "source.session.path", str(session_dir))
    for key, value in edits.items():
        cfg = with_value(cfg, key, value)
    return cfg


def rerun(cfg: Config, session_dir: Path) -> dict[str, Any]:
    """Run ``session_dir`` through the loop with ``cfg``: stages, actions, suppressions, decisions."""
    work = Path(tempfile.mkdtemp(prefix="somnoloop-replay-"))
    try:
        Run(loop_config(cfg, session_dir, {}), duration="until-stopped", speed="max",
            session_dir=work / "s", actuation="dry").run()
        out = read_night(Session(work / "s"), cfg)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"stages": final_stages(out.decisions), "actions": out.actions,
            "suppressed": out.suppressed, "decisions": out.decisions}
