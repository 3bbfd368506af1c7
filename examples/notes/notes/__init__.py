"""notes: a small JSON service over SQLite, an example app for the benchmark harness (not its demo app).

create_app() is the WSGI entry point (gunicorn: notes:create_app()). The database is a file named by NOTES_DB,
created and seeded with NOTES_SEED notes on first use."""

from __future__ import annotations

from flask import Flask

from notes import db, views


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(db.settings_from_env())
    if config:
        app.config.update(config)
    db.init_app(app)
    app.register_blueprint(views.bp)
    return app
