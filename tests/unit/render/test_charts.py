"""The charts' own behaviour beyond what the report and index tests read: a trend chart drawn from the same figures is
not drawn again (the index draws every trend after every run)."""

from __future__ import annotations

from PIL import Image

from bench.render import charts

SERIES = {"sync w1": [("20261201T000000Z-demo-sync", 9.8), ("20261202T000000Z-demo-sync", 9.7)]}


def drawn(path) -> tuple[int, str | None]:
    with Image.open(path) as png:
        return path.stat().st_mtime_ns, png.info.get(charts.DIGEST_KEY)


def test_a_trend_chart_of_the_same_figures_is_left_as_it_is_and_drawn_again_when_they_change(tmp_path, monkeypatch):
    path = tmp_path / "trend.png"
    assert charts.trend_chart(SERIES, "`/` rps", path) == path
    first = drawn(path)
    assert first[1] == charts.drawn_from(SERIES, "`/` rps")

    saved = []
    monkeypatch.setattr(charts, "save", lambda fig, p, digest=None: saved.append(p) or p)
    assert charts.trend_chart(SERIES, "`/` rps", path) == path
    assert saved == [] and drawn(path) == first, "the same figures: not drawn again"

    grown = {"sync w1": [*SERIES["sync w1"], ("20261203T000000Z-demo-sync", 9.9)]}
    charts.trend_chart(grown, "`/` rps", path)
    assert saved == [path], "a new run's point: drawn again"
    charts.trend_chart(SERIES, "`/` rps (other label)", path)
    assert saved == [path, path], "another title: drawn again"


def test_a_chart_without_a_digest_or_not_a_png_is_drawn_again(tmp_path):
    path = tmp_path / "trend.png"
    path.write_bytes(b"not a png")
    charts.trend_chart(SERIES, "`/` rps", path)
    assert drawn(path)[1] == charts.drawn_from(SERIES, "`/` rps")
    assert not charts.already_drawn(tmp_path / "missing.png", "x")
