"""RecordMarker: details the workflow keeps in its history (patches, side effects)."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2

Attrs = command_pb2.RecordMarkerCommandAttributes


class RecordMarker(CommandHandler[Attrs]):
    attribute = "record_marker_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_RECORD_MARKER

    def validate(self, m: Attrs, batch: Batch) -> str | None:
        if not m.marker_name or id_length(m.marker_name) > batch.limits.max_id_length:
            return f"marker_name must be 1 to {batch.limits.max_id_length} bytes"
        return None

    def apply(self, ex: Execution, m: Attrs, applying: Applying) -> None:
        ex.add_marker_recorded(m.marker_name, m.details, applying.completed_id)

    def describe(self, m: Attrs) -> str:
        return f"{super().describe(m)}(marker {m.marker_name!r})"
