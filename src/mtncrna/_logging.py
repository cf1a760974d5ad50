"""The package logger. The library only emits records; the CLI attaches handlers."""

from __future__ import annotations

import logging

logger = logging.getLogger("mtncrna")
logger.addHandler(logging.NullHandler())
