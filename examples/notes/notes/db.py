"""SQLite storage: one connection per request, the schema and seed data made once per database file."""

from __future__ import annotations

import os
import random
import sqlite3
import threading

from flask import Flask, current_app, g

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX IF NOT EXISTS notes_created ON notes (created);
"""
LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna "
    "aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip"
)
WORDS = LOREM.split()
_init_lock = threading.Lock()


def settings_from_env() -> dict:
    return {
        "NOTES_DB": os.environ.get("NOTES_DB", "/tmp/notes.sqlite"),
        "NOTES_SEED": int(os.environ.get("NOTES_SEED", "2000")),
    }


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def seed(conn: sqlite3.Connection, count: int) -> None:
    """Fill an empty database with `count` notes of random words (the same ones for the same count)."""
    if conn.execute("SELECT count(*) FROM notes").fetchone()[0]:
        return
    rng = random.Random(count)
    rows = [(" ".join(rng.choices(WORDS, k=rng.randint(8, 40))), ",".join(rng.sample(WORDS, 2))) for _ in range(count)]
    with conn:
        conn.executemany("INSERT INTO notes (text, tags) VALUES (?, ?)", rows)


def get() -> sqlite3.Connection:
    if "db" not in g:
        g.db = connect(current_app.config["NOTES_DB"])
    return g.db


def close(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_app(app: Flask) -> None:
    """Make the schema and seed the database once per process (several workers may race: SQLite's lock orders them)."""
    with _init_lock:
        conn = connect(app.config["NOTES_DB"])
        try:
            conn.executescript(SCHEMA)
            seed(conn, app.config["NOTES_SEED"])
        finally:
            conn.close()
    app.teardown_appcontext(close)
