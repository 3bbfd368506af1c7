"""The endpoints: list and create notes (SQLite), word statistics over every note (Python CPU work), health."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from notes import db
from notes.schema import NoteIn, NoteOut

bp = Blueprint("notes", __name__)
note_in, notes_out = NoteIn(), NoteOut(many=True)


@bp.get("/healthz")
def healthz():
    db.get().execute("SELECT 1").fetchone()
    return {"status": "ok"}


@bp.get("/notes")
def list_notes():
    limit = request.args.get("limit", default=20, type=int)
    if not 1 <= limit <= 500:
        return {"error": "limit must be from 1 to 500"}, 400
    rows = db.get().execute("SELECT * FROM notes ORDER BY created DESC, id DESC LIMIT ?", (limit,)).fetchall()
    return jsonify(notes_out.dump(rows))


@bp.post("/notes")
def create_note():
    try:
        note = note_in.load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return {"error": exc.messages}, 400
    conn = db.get()
    with conn:
        cur = conn.execute("INSERT INTO notes (text, tags) VALUES (?, ?)", (note["text"], ",".join(note["tags"])))
    return {"id": cur.lastrowid}, 201


@bp.get("/stats")
def stats():
    """The most common words of the oldest `notes` notes (by default the seeded ones, so that the work per request
    stays the same while other requests add notes): reads them, then counts in Python (the GIL is held)."""
    top = request.args.get("top", default=10, type=int)
    count = request.args.get("notes", default=current_app.config["NOTES_SEED"], type=int)
    if not 1 <= count <= 1_000_000:
        return {"error": "notes must be from 1 to 1000000"}, 400
    counts: Counter[str] = Counter()
    for (text,) in db.get().execute("SELECT text FROM notes ORDER BY id LIMIT ?", (count,)):
        counts.update(word.strip(".,").lower() for word in text.split())
    return {"notes": count, "notes_words": sum(counts.values()), "top": counts.most_common(top)}
