"""Google Drive: list, upload and download files.

OAuth, the API client and errors are handled by ``GoogleTool``; this file maps actions to API calls.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
from pathlib import Path
from typing import Any

from functions.google.tool import ActionParams, GoogleTool, ParamError

FILE_FIELDS = "id, name, mimeType, size, modifiedTime, parents, webViewLink"
GOOGLE_APPS = "application/vnd.google-apps."
EXPORT_DEFAULTS = {
    "application/vnd.google-apps.document": "text/plain",
    "application/vnd.google-apps.spreadsheet": "text/csv",
}


class DriveTool(GoogleTool):
    def list_files(self, p: ActionParams) -> dict[str, Any]:
        clauses = ["trashed = false"]
        folder = p.text("folder_id") or str(self.config.get("folder_id") or "")
        if folder:
            clauses.append(f"'{_quote(folder)}' in parents")
        if p.has("query"):
            clauses.append(f"({p.text('query')})")
        request = self.api().files().list(q=" and ".join(clauses), pageSize=p.integer("count", 20, 1, 1000),
                                          orderBy=p.text("order_by", "modifiedTime desc"),
                                          pageToken=p.text("page_token"),
                                          fields=f"nextPageToken, files({FILE_FIELDS})")
        result = self.call(request)
        files = result.get("files", [])
        return {"count": len(files), "files": files, "next_page_token": result.get("nextPageToken")}

    def upload_file(self, p: ActionParams) -> dict[str, Any]:
        from googleapiclient.http import MediaIoBaseUpload

        content, local_name = self._content(p)
        name = p.text("name") or local_name
        if not name:
            raise ParamError("google_drive.upload_file: parameter 'name' is required")
        mime_type = p.text("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        body: dict[str, Any] = {"name": name, "mimeType": mime_type}
        folder = p.text("folder_id") or str(self.config.get("folder_id") or "")
        if folder:
            body["parents"] = [folder]
        if p.has("description"):
            body["description"] = p.text("description")
        media = MediaIoBaseUpload(io.BytesIO(content), mimetype=mime_type, resumable=False)
        created = self.call(self.api().files().create(body=body, media_body=media, fields=FILE_FIELDS))
        return {"file_id": created.get("id"), "name": created.get("name"), "size": len(content),
                "web_view_link": created.get("webViewLink"), "file": created}

    def download_file(self, p: ActionParams) -> dict[str, Any]:
        file_id = p.required("file_id")
        files = self.api().files()
        meta = self.call(files.get(fileId=file_id, fields="id, name, mimeType, size"))
        mime_type = str(meta.get("mimeType") or "")
        if mime_type == GOOGLE_APPS + "folder":
            raise ParamError(f"google_drive.download_file: {file_id!r} is a folder; use list_files with folder_id")
        limit = int(self.config.get("max_download_bytes") or 10 * 1024 * 1024)
        save_to = p.text("save_to")
        if not save_to and int(meta.get("size") or 0) > limit:
            raise ParamError(f"google_drive.download_file: the file is {meta['size']} bytes, over the "
                             f"{limit}-byte inline limit; pass save_to to write it to a file")
        if mime_type.startswith(GOOGLE_APPS):
            export = p.text("export_mime_type") or EXPORT_DEFAULTS.get(mime_type, "application/pdf")
            content = self.call(files.export(fileId=file_id, mimeType=export))
            mime_type = export
        else:
            content = self.call(files.get_media(fileId=file_id))
        content = content if isinstance(content, bytes) else str(content).encode()
        result: dict[str, Any] = {"file_id": file_id, "name": meta.get("name"), "mime_type": mime_type,
                                  "size": len(content)}
        if save_to:
            target = Path(save_to)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            result["saved_to"] = str(target)
            return result
        if len(content) > limit:
            raise ParamError(f"google_drive.download_file: {len(content)} bytes is over the {limit}-byte "
                             "inline limit; pass save_to to write it to a file")
        try:
            result["content"] = content.decode("utf-8")
        except UnicodeDecodeError:
            result["content_base64"] = base64.b64encode(content).decode("ascii")
        return result

    @staticmethod
    def _content(p: ActionParams) -> tuple[bytes, str | None]:
        given = [name for name in ("content", "content_base64", "path") if p.has(name)]
        if len(given) != 1:
            raise ParamError("google_drive.upload_file: give exactly one of 'content' (text), 'content_base64' "
                             f"or 'path' (got {', '.join(given) or 'none'})")
        if given[0] == "content":
            value = p.get("content")
            return (value if isinstance(value, str) else str(value)).encode("utf-8"), None
        if given[0] == "content_base64":
            try:
                return base64.b64decode(p.required("content_base64"), validate=True), None
            except (binascii.Error, ValueError):
                raise ParamError("google_drive.upload_file: parameter 'content_base64' is not valid base64") from None
        path = Path(p.required("path"))
        if not path.is_file():
            raise ParamError(f"google_drive.upload_file: parameter 'path': no file at {str(path)!r}")
        return path.read_bytes(), path.name


def _quote(value: str) -> str:
    """Escape a value inside a single-quoted Drive query string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
