"""The cyclic garbage collector paused while a function loads (decision 104).

Loading a function makes hundreds of thousands of objects that live as long as it does (modules,
classes, pydantic's models, Powertools' event classes), and Python's cyclic collector scans them
again and again while they are made: paired, that scanning was 0.2-0.3x of the cold-start floor.
A handler imports this module first and calls `loaded()` last. In between the collector is off;
then what loading made is frozen into the permanent generation (`gc.freeze`: later collections do
not scan it) and collection resumes for what requests make.

The price: a reference cycle that loading made and dropped is never collected. Measured, a ready
function's peak memory moved by 0-1 MiB. Only the first handler a process loads pauses (the local
stack and the tests load many: the rest load with the collector on).
"""

from __future__ import annotations

import gc

_paused = gc.isenabled()
if _paused:
    gc.disable()


def loaded() -> None:
    """The handler module has loaded: freeze what it made and collect again from here on."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
