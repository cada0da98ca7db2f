"""Importing units or people from a CSV file over the API: POST /api/v1/admin/imports.

First with ``dry_run=true`` (the default): the file is checked and every problem listed, and
nothing changes. Then the same bytes with ``dry_run=false`` and ``digest`` (the SHA-256 the dry
run answered): they are applied all at once, or not at all.
"""

from flask import jsonify
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from app import policy
from app.admin import importing
from app.api.common import Blueprint, caller
from app.api.errors import PROBLEM_JSON, problem, problem_doc
from app.extensions import db

blp = Blueprint("api_admin_imports", __name__, url_prefix="/api/v1/admin/imports",
                description="Tenant administration: importing units and people from CSV")


@blp.before_request
def _tenant_admins_only():
    if not policy.can_administer_tenant(caller()):
        return problem(404, "Not found.")  # as the pages: nothing here for others
    return None


class ImportArgs(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(importing.KINDS), metadata={
        "description": "What the file holds: units (name, parent, service_unit) or people "
                       "(email, name, language, phone, roles as role@unit separated by |)"})
    dry_run = fields.Boolean(load_default=True, metadata={
        "description": "true: check only; false: apply (requires digest)"})
    digest = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"), metadata={
        "description": "With dry_run=false: the SHA-256 of the file, as the dry run answered "
                       "it; a different file is refused"})


class ImportFile(Schema):
    file = Upload(required=True, metadata={
        "description": "A CSV file, UTF-8 (with or without BOM), separated by , or ;; at "
                       f"most {importing.MAX_ROWS['units']} rows of units or "
                       f"{importing.MAX_ROWS['people']} of people, and {importing.MAX_BYTES} "
                       "bytes"})


class ProblemRow(Schema):
    row = fields.Integer(metadata={"description": "Row of the file (the header is 1); 0 for "
                                                  "the whole file"})
    column = fields.String()
    message = fields.String()


class ImportReport(Schema):
    kind = fields.String()
    digest = fields.String(metadata={"description": "SHA-256 of the file"})
    size = fields.Integer()
    rows = fields.Integer()
    ok = fields.Boolean(metadata={"description": "No problems: it can be applied"})
    applied = fields.Boolean()
    created = fields.Integer()
    problems = fields.List(fields.Nested(ProblemRow))


def _refused(report: importing.Report, detail: str):
    """A problem+json answer that carries the report's fields too."""
    response = jsonify({"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
                        "detail": detail, **report.as_dict()})
    response.status_code = 422
    response.content_type = PROBLEM_JSON
    return response


@blp.route("", methods=["POST"])
@blp.arguments(ImportArgs, location="query")
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportReport, description="The dry run's report (problems listed, nothing "
              "changed)")
@blp.alt_response(201, schema=ImportReport, description="Applied: everything was created")
@blp.alt_response(404, **problem_doc, description="Not a tenant admin")
@blp.alt_response(422, **problem_doc, description="Not applied: the report's problems, or a "
                  "digest missing or of another file; nothing changed")
def import_file(args, files):
    """Check (dry run) or apply a CSV file of units or people"""
    data = files["file"].stream.read(importing.MAX_BYTES + 1)
    if args["dry_run"]:
        report = importing.check(caller().tenant_id, args["kind"], data)
        db.session.rollback()
        return report.as_dict()
    if args.get("digest") != importing.digest_of(data):
        db.session.rollback()
        report = importing.Report(kind=args["kind"], digest=importing.digest_of(data),
                                  size=len(data))
        report.add(0, "", "Send the digest of the dry run of this same file: "
                          "dry_run=false&digest=<sha256>.")
        return _refused(report, "The file is not the one that was checked.")
    report = importing.apply(caller(), args["kind"], data)
    if not report.ok:
        db.session.rollback()
        return _refused(report, "Nothing was imported: fix the problems listed and send "
                                "the file again.")
    db.session.commit()
    return report.as_dict(), 201
