"""What a POSTed note must look like (marshmallow), and how a note is shown."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class NoteIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=list)


class NoteOut(Schema):
    id = fields.Integer()
    text = fields.String()
    tags = fields.Method("split_tags")
    created = fields.Float()

    def split_tags(self, row) -> list[str]:
        return [t for t in row["tags"].split(",") if t]
