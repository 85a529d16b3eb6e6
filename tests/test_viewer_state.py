"""The viewer's Qt-free state: linked navigation by frame, vertebral level and offset; flip/rotate with correct
orientation letters; maximise, next/previous series and cine."""

from __future__ import annotations

import numpy as np
import pytest

from imaging import display as d
from imaging.geometry import PlaneGeometry
from imaging.protocols.hanging import Hanging, PaneFill
from imaging.protocols.protocol import shipped_protocols
from imaging.viewer import screen
from imaging.viewer.links import LinkModel, Spine, ViewLinks, frame_key, level_map_point
from imaging.viewer.state import CINE_SPEEDS, Cine, ViewerState

# Body centres (LPS mm) of T5..T8 on two studies of one patient: the second lies 37 mm lower on the table,
# 6 mm more anterior, and its T6-T7 interval is 10 % longer (a different position, a different curve).
PRE = {"T5": (0.0, 37.3, 25.4), "T6": (0.0, 40.0, 0.0), "T7": (0.0, 40.9, -26.2), "T8": (0.0, 40.0, -53.5)}
POST = {"T5": (1.0, 31.3, -11.6), "T6": (1.0, 34.0, -37.0), "T7": (1.0, 34.9, -65.8), "T8": (1.0, 34.0, -93.1)}


def linked_model() -> LinkModel:
    m = LinkModel()
    m.set_levels("for:pre", PRE.items())
    m.set_levels("for:post", POST.items())
    return m


def test_labelled_bodies_map_onto_each_other() -> None:
    m = linked_model()
    assert m.kind("for:pre", "for:post") == "level"
    for level, centre in PRE.items():
        np.testing.assert_allclose(m.map_point(centre, "for:pre", "for:post"), POST[level], atol=1e-9)
        np.testing.assert_allclose(m.map_point(POST[level], "for:post", "for:pre"), centre, atol=1e-9)


def test_between_labelled_bodies_the_map_interpolates() -> None:
    m = linked_model()
    t6, t7 = np.array(PRE["T6"]), np.array(PRE["T7"])
    q6, q7 = np.array(POST["T6"]), np.array(POST["T7"])
    for fraction in (0.25, 0.5, 0.9):
        p = t6 + fraction * (t7 - t6)
        np.testing.assert_allclose(m.map_point(p, "for:pre", "for:post"), q6 + fraction * (q7 - q6), atol=1e-9)
    # a point off the spine keeps its offset from the spine (20 mm behind the T6 body: the canal)
    p = t6 + np.array([3.0, 20.0, 0.0])
    np.testing.assert_allclose(m.map_point(p, "for:pre", "for:post"), q6 + np.array([3.0, 20.0, 0.0]), atol=0.5)
    # beyond the labelled field the end segment extrapolates
    t5, t8 = np.array(PRE["T5"]), np.array(PRE["T8"])
    q5, q8 = np.array(POST["T5"]), np.array(POST["T8"])
    np.testing.assert_allclose(m.map_point(t8 + 0.5 * (t8 - t7), "for:pre", "for:post"), q8 + 0.5 * (q8 - q7),
                               atol=1e-9)
    np.testing.assert_allclose(m.map_point(t5 + 0.5 * (t5 - t6), "for:pre", "for:post"), q5 + 0.5 * (q5 - q6),
                               atol=1e-9)


def test_one_shared_level_is_a_translation_and_no_shared_level_is_no_link() -> None:
    m = LinkModel()
    m.set_levels("a", [("T6", (0, 0, 0)), ("T7", (0, 0, -25))])
    m.set_levels("b", [("t6", (5, 5, 5))])  # names are normalised
    np.testing.assert_allclose(m.map_point((1, 2, -10), "a", "b"), (6, 7, -5))
    m.set_levels("c", [("L3", (0, 0, 0))])
    assert m.kind("a", "c") == "none" and m.map_point((0, 0, 0), "a", "c") is None
    m.set_levels("a", [])
    assert m.spine("a") is None and m.kind("a", "b") == "none"
    assert Spine.from_labels([("X9", (0, 0, 0)), ("T4", (np.nan, 0, 0))]) is None


def test_same_frame_maps_unchanged_and_an_offset_is_set_once() -> None:
    m = LinkModel()
    np.testing.assert_allclose(m.map_point((1, 2, 3), "f", "f"), (1, 2, 3))
    links = ViewLinks(m)
    kind = links.link_with_offset("g", (10, 0, 50), "f", (0, 0, 0))
    assert kind == "offset" and m.kind("f", "g") == "offset"
    np.testing.assert_allclose(m.map_point((0, 0, -5), "f", "g"), (10, 0, 45))
    np.testing.assert_allclose(m.map_point((10, 0, 45), "g", "f"), (0, 0, -5))
    assert "offset" in m.describe("f", "g")
    m.set_levels("f", PRE.items())
    m.set_levels("g", POST.items())
    assert m.kind("f", "g") == "level"  # labelled levels are the reader's own statement: they win
    with pytest.raises(ValueError):
        m.set_offset("f", "g", (np.nan, 0, 0))


def test_view_links_follow_only_linked_views_that_map() -> None:
    links = ViewLinks(linked_model())
    frames = {"view0": "for:pre", "view1": "for:pre", "view2": "for:post", "view3": "for:other"}
    targets = links.targets("view0", PRE["T7"], "for:pre", frames)
    assert set(targets) == {"view0", "view1", "view2"}
    np.testing.assert_allclose(targets["view2"], POST["T7"], atol=1e-9)
    links.set_linked("view2", False)
    assert set(links.targets("view0", PRE["T7"], "for:pre", frames)) == {"view0", "view1"}
    links.set_linked("view0", False)  # an unlinked view moves alone
    assert set(links.targets("view0", PRE["T7"], "for:pre", frames)) == {"view0"}
    assert frame_key("1.2.3") == "for:1.2.3" and frame_key("", "9.8") == "series:9.8"


def test_level_map_half_body_accuracy_on_a_dense_walk() -> None:
    """Every point along the pre-operative spine lands within half a vertebral body of the same place."""
    names = list(PRE)
    src = np.array([PRE[n] for n in names])
    dst = np.array([POST[n] for n in names])
    for i in range(len(names) - 1):
        for f in np.linspace(0, 1, 11):
            p = src[i] + f * (src[i + 1] - src[i])
            q = level_map_point(p, src, dst)
            expected = dst[i] + f * (dst[i + 1] - dst[i])
            half_body = 0.5 * np.linalg.norm(dst[i + 1] - dst[i])
            assert np.linalg.norm(q - expected) < half_body


# -- flip / rotate -------------------------------------------------------------------------------------------
def sagittal_plane() -> PlaneGeometry:
    return PlaneGeometry((0, 0, 0), (0, 1, 0), (0, 0, -1), 0.5, 0.5)  # right = P, down = I


def test_turns_compose_and_undo() -> None:
    t = screen.IDENTITY
    assert screen.rotate(screen.rotate(screen.rotate(screen.rotate(t)))) == t
    assert screen.flip_horizontal(screen.flip_horizontal(t)) == t
    assert screen.rotate(screen.rotate(t, 1), -1) == t
    assert screen.rotate(screen.rotate(t)) == screen.flip_vertical(screen.flip_horizontal(t))
    assert screen.describe(t) == ""
    assert screen.describe(screen.rotate(t)) == "rotated 90\u00b0 clockwise"
    assert screen.describe(screen.flip_horizontal(t)) == "flipped horizontally"
    assert screen.as_turn([0.0, -1.0, 1.0, 0.0]) == screen.rotate(t)
    for bad in ((1, 1, 0, 1), (2, 0, 0, 1), (0, 0, 0, 0)):
        with pytest.raises(ValueError):
            screen.as_turn(bad)


@pytest.mark.parametrize(("ops", "letters"), [
    ((), {"left": "A", "right": "P", "top": "S", "bottom": "I"}),
    (("h",), {"left": "P", "right": "A", "top": "S", "bottom": "I"}),
    (("v",), {"left": "A", "right": "P", "top": "I", "bottom": "S"}),
    (("r",), {"left": "I", "right": "S", "top": "A", "bottom": "P"}),  # clockwise: the top (S) goes right
    (("r", "r"), {"left": "P", "right": "A", "top": "I", "bottom": "S"}),
    (("l",), {"left": "S", "right": "I", "top": "P", "bottom": "A"}),
    (("r", "h"), {"left": "S", "right": "I", "top": "A", "bottom": "P"}),
])
def test_orientation_letters_follow_flips_and_rotations(ops: tuple[str, ...], letters: dict) -> None:
    t = screen.IDENTITY
    for op in ops:
        t = {"h": screen.flip_horizontal, "v": screen.flip_vertical, "r": screen.rotate,
             "l": lambda x: screen.rotate(x, -1)}[op](t)
    g = sagittal_plane()
    assert d.edge_letters(g, t) == letters
    # the letters agree with where the drawn image actually moved: a point 10 mm posterior appears on the
    # screen side the letter "P" names
    m = d.screen_matrix(g, t)
    right, down = m @ g.from_lps((0, 10.0, 0))[:2]
    side = ("right" if right > 0 else "left") if abs(right) > abs(down) else ("bottom" if down > 0 else "top")
    assert letters[side] == "P"


# -- viewer state -------------------------------------------------------------------------------------------
def spine_mr_hanging() -> Hanging:
    protocol = next(p for p in shipped_protocols() if p.id == "spine-mr")
    panes = (PaneFill(0, "sagittal", "k-sag-t2", "S", "sag T2", rule=0),
             PaneFill(1, "sagittal", None, None, "sag T1", required=False, missing="no sag T1 series in the study"),
             PaneFill(2, "axial", "k-ax-t2", "S", "ax T2", rule=0))
    return Hanging(protocol, "S", panes, study_date="20240101")


def test_state_takes_a_hanging_and_maximises_views() -> None:
    state = ViewerState()
    state.apply_hanging(spine_mr_hanging())
    assert state.layout == "1x3" and state.view_count() == 3 and state.protocol_id == "spine-mr"
    assert [s.series_key for s in state.slots] == ["k-sag-t2", None, "k-ax-t2", None]
    assert state.slots[1].placeholder == "sag T1: no sag T1 series in the study"
    assert state.visible_views() == [0, 1, 2]
    assert state.toggle_maximise(2) == 2 and state.visible_views() == [2]
    assert state.toggle_maximise(2) is None and state.visible_views() == [0, 1, 2]
    assert state.toggle_maximise(3) is None  # not a view of this layout


def test_next_series_stops_at_the_ends() -> None:
    order = ["a", "b", "c"]
    assert ViewerState.next_series(order, "a", +1) == "b"
    assert ViewerState.next_series(order, "c", +1) == "c"
    assert ViewerState.next_series(order, "a", -1) == "a"
    assert ViewerState.next_series(order, "zz", -1) == "c"
    assert ViewerState.next_series([], "a", 1) is None


def test_cine_speeds_and_loop() -> None:
    c = Cine()
    assert not c.playing and c.toggle() and c.playing
    start = c.fps
    assert c.faster() > start and c.slower() == start
    for _ in range(30):
        c.faster()
    assert c.fps == CINE_SPEEDS[-1]
    for _ in range(30):
        c.slower()
    assert c.fps == CINE_SPEEDS[0] and c.interval_ms == 1000
    assert [Cine.next_index(k, 3) for k in range(3)] == [1, 2, 0]
