"""Which file types a company accepts (the tenant admin's choice among ``sniffing.KNOWN``;
``sniffing.DEFAULT_ALLOWED`` until they choose), kept in ``Tenant.settings``, and the labels
the pages show for each type."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.admin import audit
from app.attachments import sniffing as s
from app.models import Tenant

SETTING = "attachment_types"

LABELS = {
    s.JPEG: _l("JPEG image"), s.PNG: _l("PNG image"), s.GIF: _l("GIF image"),
    s.WEBP: _l("WebP image"), s.PDF: _l("PDF document"), s.TEXT: _l("Plain text"),
    s.CSV: _l("CSV table"), s.DOCX: _l("Word document (.docx)"),
    s.XLSX: _l("Excel workbook (.xlsx)"), s.PPTX: _l("PowerPoint presentation (.pptx)"),
    s.ODT: _l("OpenDocument text (.odt)"), s.ODS: _l("OpenDocument spreadsheet (.ods)"),
    s.ODP: _l("OpenDocument presentation (.odp)"),
    s.OLE: _l("Office 97-2003 file (.doc, .xls, .ppt)"),
    s.HTML: _l("HTML page"), s.SVG: _l("SVG drawing"), s.XML: _l("XML document"),
    s.ZIP: _l("ZIP archive"), s.UNKNOWN: _l("unknown binary data"),
}


def type_label(content_type: str) -> str:
    return str(LABELS.get(content_type, content_type))


def allowed_types(tenant: Tenant) -> tuple[str, ...]:
    chosen = (tenant.settings or {}).get(SETTING)
    if not isinstance(chosen, list):
        return s.DEFAULT_ALLOWED
    return tuple(t for t in s.KNOWN if t in chosen)


def clean(values) -> list[str]:
    """The chosen types, in the known order; raises ValidationError for an unknown one."""
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError({"types": [str(_l("Choose types from the list."))]})
    unknown = [v for v in values if v not in s.KNOWN]
    if unknown:
        raise ValidationError({"types": [str(_l("Not a type that can be accepted: %(types)s.",
                                                types=", ".join(unknown)[:200]))]})
    return [t for t in s.KNOWN if t in values]


def apply(actor, tenant: Tenant, types: list[str]) -> bool:
    """Keep the checked ``types``; an audit entry says what changed. False if nothing did."""
    before = list(allowed_types(tenant))
    if before == types:
        return False
    tenant.settings = {**(tenant.settings or {}), SETTING: types}
    audit.record(tenant.id, actor, "settings.changed", "tenant", tenant.id,
                 target_label=tenant.name, before={SETTING: before}, after={SETTING: types})
    return True
