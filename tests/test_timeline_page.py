"""The Timeline page and the Train page's timeline toggle through AppTest."""

from __future__ import annotations

from app_support import figure, no_errors, page

from explorer.cli import main as cli
from explorer.training.timeline import TIMELINE_FILE

TIMELINE = "from explorer.ui.timeline_page import timeline_page\ntimeline_page()\n"
TRAIN = "from explorer.ui.train_page import train_page\ntrain_page()\n"


def test_timeline_page_scrubs_the_epochs_of_a_recorded_run(env, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    assert cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "3", "--epochs", "3",
                "--out", str(runs / "digits-ae-3d-timeline"), "--timeline", "--quiet"]) == 0
    assert cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2", "--epochs", "1",
                "--out", str(runs / "no-timeline"), "--quiet"]) == 0
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    at = page(TIMELINE, model="digits-ae-3d-timeline")
    no_errors(at)
    assert "no-timeline (yours)" not in at.sidebar.selectbox(key="pick_model").options
    fig = figure(at)
    assert [f.name for f in fig.frames] == ["0", "1", "2", "3"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1", "2", "3"]
    assert fig.layout.sliders[0].active == 3 and fig.layout.title.text.startswith("epoch 3 · training loss")
    assert fig.layout.xaxis.title.text == "pca 1"  # 3-D codes: the final epoch's PCA plane
    assert {t.name for t in fig.data if t.showlegend is not False} == {str(c) for c in range(10)}
    assert any("PCA plane of the final 3-D codes" in c.value for c in at.caption)


def test_train_page_records_shows_and_saves_a_timeline(env, tmp_path, monkeypatch):
    runs = tmp_path / "new-runs"
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    at = page(TRAIN)
    at.selectbox(key="train_data").set_value("digits").run()
    at.number_input(key="train_epochs").set_value(2).run()
    at.toggle(key="train_timeline").set_value(True).run()
    at.button(key="train_go").click().run()
    job = at.session_state["job"]
    job.join(timeout=60)
    assert job.timeline is not None and job.timeline.epochs.tolist() == [0, 1, 2]
    at.run()
    no_errors(at)
    assert "Timeline" in [h.value for h in at.subheader]
    assert len(figure(at, 1).frames) == 3
    at.text_input(key="save_name").set_value("with-timeline").run()
    at.button(key="save_go").click().run()
    no_errors(at)
    assert (runs / "with-timeline" / TIMELINE_FILE).is_file()
