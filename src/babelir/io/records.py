"""Policy for bad records: raise (default) or skip and count (``--skip-bad``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from babelir.errors import InputError


@dataclass
class BadRecords:
    """Decides what happens to a bad record.

    With ``skip=False`` (the default) the first bad record raises its :class:`InputError`.
    With ``skip=True`` it is counted, and the first few messages are kept for the summary.
    """

    skip: bool = False
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def __call__(self, error: InputError) -> None:
        if not self.skip:
            raise error
        self.count += 1
        if len(self.examples) < 5:
            self.examples.append(str(error))
