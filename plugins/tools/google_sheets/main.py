"""Google Sheets: read, append and update cell values.

OAuth, the API client and errors are handled by ``GoogleTool``; this file maps actions to API calls.
"""

from __future__ import annotations

from typing import Any

from functions.google.tool import ActionParams, GoogleTool, ParamError

INPUT_OPTIONS = ("USER_ENTERED", "RAW")
RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")


class SheetsTool(GoogleTool):
    def read_range(self, p: ActionParams) -> dict[str, Any]:
        render = _choice(p, "value_render_option", RENDER_OPTIONS)
        result = self.call(self._values().get(spreadsheetId=self._spreadsheet(p), range=p.required("range"),
                                              valueRenderOption=render))
        values = result.get("values", [])
        return {"range": result.get("range"), "rows": len(values), "values": values}

    def append_rows(self, p: ActionParams) -> dict[str, Any]:
        rows = p.rows("rows")
        result = self.call(self._values().append(
            spreadsheetId=self._spreadsheet(p), range=p.text("range", "Sheet1"),
            valueInputOption=_choice(p, "value_input_option", INPUT_OPTIONS), insertDataOption="INSERT_ROWS",
            body={"values": rows}))
        updates = result.get("updates", {})
        return {"appended_rows": len(rows), "updated_range": updates.get("updatedRange"),
                "updated_cells": updates.get("updatedCells"), "table_range": result.get("tableRange")}

    def update_range(self, p: ActionParams) -> dict[str, Any]:
        values = p.rows("values")
        result = self.call(self._values().update(
            spreadsheetId=self._spreadsheet(p), range=p.required("range"),
            valueInputOption=_choice(p, "value_input_option", INPUT_OPTIONS), body={"values": values}))
        return {"updated_range": result.get("updatedRange"), "updated_rows": result.get("updatedRows"),
                "updated_columns": result.get("updatedColumns"), "updated_cells": result.get("updatedCells")}

    def _values(self) -> Any:
        return self.api().spreadsheets().values()

    def _spreadsheet(self, p: ActionParams) -> str:
        value = p.text("spreadsheet_id") or str(self.config.get("spreadsheet_id") or "")
        if not value:
            raise ParamError(f"google_sheets.{p.action}: parameter 'spreadsheet_id' is required (or set "
                             f"GOOGLE_SHEETS_{self.profile}_SPREADSHEET_ID); it is the long id in the sheet's URL")
        return value


def _choice(p: ActionParams, name: str, options: tuple[str, ...]) -> str:
    value = (p.text(name) or options[0]).upper()
    if value not in options:
        raise ParamError(f"google_sheets.{p.action}: parameter '{name}' must be one of {', '.join(options)}, "
                         f"got {p.text(name)!r}")
    return value
