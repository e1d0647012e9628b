"""Latent arithmetic: decode z_A - z_B + z_C and the class-mean codes."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer import latent
from explorer.apps.arithmetic import analogy, class_means, group_mean
from explorer.apps.regularity import judge_verdicts
from explorer.figures import plots
from explorer.ui import job_panel, resources
from explorer.ui.model_picker import OpenModel, open_model
from explorer.ui.widgets import guarded, point_index, selected_points, show_items, show_strip

MAP_SELECTION = "selected on the map"
GROUPS = ("A", "B", "C")


@guarded
def arithmetic_page() -> None:
    st.title("Latent arithmetic")
    st.markdown(
        "What **A** is to **B**, applied to **C**: decode `mean(z_A) - mean(z_B) + mean(z_C)`. "
        "With A = one item, B = its class and C = another class, the item's *style* (slant, "
        "stroke width) moves to the other class, if the code keeps style and class apart."
    )
    opened = open_model()
    if opened is None:
        return
    view = opened.view
    choices = group_choices(opened)
    groups = {name: col.selectbox(f"group {name}", list(choices), index=default_choice(name, choices),
                                  key=f"ar_{name}")
              for name, col in zip(GROUPS, st.columns(3))}
    left, right = st.columns([3, 2], gap="medium")
    with left:
        selection = selection_map(opened)
    with right:
        members = {
            name: selection if choice == MAP_SELECTION else choices[choice] for name, choice in groups.items()
        }
        result = analogy(view.z, members["A"], members["B"], members["C"])
        means = {name: group_mean(view.z, m, name) for name, m in members.items()}
        decoded = latent.decode(opened.ckpt.model, torch.from_numpy(np.stack([*means.values(), result])))
        show_items(view.data, decoded.numpy(),
                   [f"mean {n} ({len(members[n])})" for n in GROUPS] + ["A − B + C"], key="ar_result")
        verdict(opened, decoded[-1:].numpy())
        per_item(opened, members)
    if view.labels is not None:
        st.subheader("Class-mean codes, decoded")
        st.caption("The mean code of each class need not decode to that class: a mean can fall "
                   "between clusters, where the decoder draws something else.")
        means_by_class = class_means(view.z, view.labels)
        codes = torch.from_numpy(np.stack(list(means_by_class.values())))
        show_items(view.data, latent.decode(opened.ckpt.model, codes).numpy(),
                   [f"mean of {view.data.label_name(c)}" for c in means_by_class], key="ar_means",
                   columns=min(10, len(means_by_class)))


def group_choices(opened: OpenModel) -> dict[str, np.ndarray]:
    """Each class's test items, the first few single items, and the map selection."""
    view = opened.view
    choices: dict[str, np.ndarray] = {}
    if view.labels is not None:
        for c in np.unique(view.labels):
            choices[f"class {view.data.label_name(int(c))}"] = np.flatnonzero(view.labels == c)
        for c in np.unique(view.labels):
            first = int(np.flatnonzero(view.labels == c)[0])
            choices[f"item #{first} ({view.data.label_name(int(c))})"] = np.array([first])
    else:
        for i in range(min(10, len(view.z))):
            choices[f"item #{i}"] = np.array([i])
    choices[MAP_SELECTION] = np.array([], dtype=np.int64)
    return choices


def default_choice(group: str, choices: dict[str, np.ndarray]) -> int:
    """A: a single item; B: that item's class; C: another class (a style transfer)."""
    names = list(choices)
    items = [n for n in names if n.startswith("item")]
    classes = [n for n in names if n.startswith("class")]
    if group == "A" and items:
        return names.index(items[0])
    if group == "B" and classes:
        return names.index(classes[0])
    if group == "C" and len(classes) > 1:
        return names.index(classes[min(3, len(classes) - 1)])
    return 0


def selection_map(opened: OpenModel) -> np.ndarray:
    """A map to box- or lasso-select items for any group set to "selected on the map"."""
    view = opened.view
    cfg = resources.overview_map(opened.ckpt.config.latent_dim)
    emb = resources.projection(*opened.key, cfg).embedding
    picked = {point_index(p) for p in selected_points(st.session_state.get("ar_map"))} - {None}
    chosen = np.array(sorted(picked), dtype=np.int64)
    fig = plots.latent_scatter(emb, labels=view.labels, label_names=view.data.class_names,
                               axis_name=cfg.method)
    fig.update_layout(dragmode="lasso")
    st.plotly_chart(fig, on_select="rerun", selection_mode=("box", "lasso"), key="ar_map", width="stretch")
    st.caption(f"Lasso or box-select items here and set a group to \"{MAP_SELECTION}\" "
               f"({len(chosen)} selected now).")
    return chosen


def verdict(opened: OpenModel, decoded: np.ndarray) -> None:
    data = opened.view.data
    if data.y_train is None:
        return
    judge = job_panel.shared_result(resources.shared_work(), resources.judge_key(*opened.key),
                                    resources.judge_work(data), "training the judge of samples",
                                    "Stop training the judge")
    if judge is None:
        return
    (label,), (sure,) = judge_verdicts(judge, decoded)
    st.caption(f"A classifier of real items calls the result **{opened.view.data.label_name(int(label))}** "
               f"({sure:.0%} sure).")


def per_item(opened: OpenModel, members: dict[str, np.ndarray], n: int = 8) -> None:
    """The same shift, ``z_i - mean(B) + mean(C)``, applied to each of A's first items."""
    view = opened.view
    a = members["A"][:n]
    if len(a) < 2:
        return
    shift = group_mean(view.z, members["C"], "C") - group_mean(view.z, members["B"], "B")
    shifted = latent.decode(opened.ckpt.model, torch.from_numpy(view.z[a] + shift)).numpy()
    show_strip(view.data, np.concatenate([view.x[a].numpy(), shifted]),
               f"A's first {len(a)} items (top) and each moved by mean(C) - mean(B) (bottom)",
               key="ar_items", ncols=len(a))
