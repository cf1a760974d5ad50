"""One verbosity setting for the library's log records (the CLI sets it from -v/-q)."""

from __future__ import annotations

import logging

from ._logging import logger

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}


class _Settings:
    """``mtncrna.settings.verbosity``: 0 errors, 1 warnings (default), 2 info, 3 debug."""

    @property
    def verbosity(self) -> int:
        level = logger.level or logging.WARNING
        return {v: k for k, v in _LEVELS.items()}.get(level, 1)

    @verbosity.setter
    def verbosity(self, value: int) -> None:
        logger.setLevel(_LEVELS[max(0, min(3, int(value)))])


settings = _Settings()
