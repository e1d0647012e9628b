"""The app's shared head: the Plotly preload finds Streamlit's chart code."""

from __future__ import annotations

from explorer.ui.shell import STREAMLIT_JS, plotly_chunk, preload_script


def test_the_installed_streamlit_ships_the_plotly_chunk_the_preload_names():
    chunk = plotly_chunk()
    assert chunk is not None, f"no PlotlyChart.*.js in {STREAMLIT_JS}: the preload does nothing"
    assert (STREAMLIT_JS / chunk).stat().st_size > 1_000_000  # plotly.js itself, not a stub
    script = preload_script(chunk)
    assert f'"static/js/{chunk}"' in script and "modulepreload" in script


def test_no_chunk_means_no_script(tmp_path):
    assert plotly_chunk(tmp_path) is None
    assert preload_script(None) == ""
    (tmp_path / "PlotlyChart.abc123.js").write_text("export {}")
    assert plotly_chunk(tmp_path) == "PlotlyChart.abc123.js"
