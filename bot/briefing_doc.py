"""The 通报 as a Word document (python-docx), from the same sections as the text."""

from __future__ import annotations

import io

from docx import Document

from handlers.briefing import Briefing, sections, title


def render_docx(briefing: Briefing, lang: str = "zh") -> bytes:
    document = Document()
    document.add_heading(title(briefing, lang), level=1)
    for section in sections(briefing, lang):
        document.add_heading(section.title, level=2)
        for line in section.lines:
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
