"""PDF through LibreOffice (soffice --headless --convert-to pdf), with one deadline and a private
profile directory so that concurrent conversions do not share (and lock) one user installation."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from yuqing.errors import YuqingError

DEADLINE_S = 120


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(data: bytes, suffix: str = ".docx", *, timeout: float = DEADLINE_S) -> bytes:
    """The document converted by LibreOffice; a plain sentence when it is not installed or fails."""
    program = soffice()
    if program is None:
        raise YuqingError("E_PDF_NO_LIBREOFFICE")
    with tempfile.TemporaryDirectory(prefix="yuqing-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / f"document{suffix}"
        source.write_bytes(data)
        command = [program, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(folder), str(source)]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise YuqingError("E_PDF_FAILED", detail=f"超过 {timeout:g} 秒未完成") from exc
        target = folder / "document.pdf"
        if not target.is_file():
            raise YuqingError("E_PDF_FAILED", detail="LibreOffice 未生成 PDF")
        return target.read_bytes()
