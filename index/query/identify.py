"""Identify a title, episode and second from one screenshot: views -> kNN -> title vote -> scenes.

Search is adaptive: the primary view alone first, the other views (original, mirror) only when
that answer is not sure (`IdentifyParams`). Defaults: docs/calibration.md.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from index.query.align import settle_tie
from index.query.colour import colour_histogram
from index.query.flipcheck import agreement, signature, thumbnail_signature
from index.query.identification import Identification, Match
from index.query.inner import INNER_VIEWS, Found, inner_views
from index.query.params import IdentifyParams
from index.query.rerank import choose_view, preview_shaped_crops, spatial_scores
from index.query.scenes import merge_scenes
from index.query.screenfit import fitted_pick
from index.query.screenshot import search_views, video_sized
from index.query.titlehead import decide
from index.query.vote import (
    Candidate,
    best_view,
    doubt,
    near_tie,
    pictures_agree,
    pool_hits,
    sure_by_vote,
    vote,
)
from index.types import Hit
from model.base import ArrayEmbedder, Embedder
from model.fit import fit_batch, to_rgb

if TYPE_CHECKING:
    from index.query.titlehead import TitleHead
    from index.store.frame_store import FrameStore

log = logging.getLogger(__name__)

# A found picture narrower than this (width / height) is a part of a screen, not placed in the
# re-rank: no video is narrower than 4:3, and rectified screens measured 1.58-2.08 (perspective
# stretches them), the cut parts that won 1.03-1.08 (docs/pictures.md, 2026-12-01 03:40).
_NARROWEST = 1.25


class Identifier:
    """Answers screenshots against a `FrameStore` with the embedder that built it."""

    def __init__(
        self,
        embedder: Embedder,
        store: FrameStore,
        params: IdentifyParams | None = None,
        title_head: TitleHead | None = None,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.params = params or IdentifyParams()
        self.title_head = title_head  # None: frame matches only
        # One helper thread, started on first use, for work that overlaps the caller's.
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="identify-helper")

    def identify(
        self,
        image: Image.Image,
        top_k: int = 5,
        *,
        title_id: int | None = None,
        cut_borders: bool = True,
    ) -> Identification:
        """Answer one screenshot; unknown (`match` None, with a `reason`) is an answer, not an
        error, so only a bad `top_k` raises.

        `title_id` searches that title's frames only; `cut_borders=False` searches the picture
        as it is, without trimming bars or cropping a player window.
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        params = self.params
        timings = {"views": 0.0, "embed": 0.0, "search": 0.0}
        mark = time.perf_counter()
        crop = params.crop and cut_borders
        early = self._fit_early(image) if crop else None
        # The mirror is made only if a second pass needs it; it mirrors the primary view, as
        # `query_views(mirror=True)` does.
        views, exact = search_views(image, crop=crop)
        timings["views"] = time.perf_counter() - mark
        # The early fit is of the whole picture: the first view unless a crop was found. One
        # the helper has not started (it is busy with other queries) is dropped, not waited for.
        if early is not None and (early.cancel() or len(views) > 1):
            early = None
        fitted = early.result() if early is not None else None
        per_view, primary = self._search(views[:1], timings, title_id, fitted)
        hits = pool_hits(per_view, params.search_k)
        if not hits:
            empty = "the title has no frames" if title_id is not None else "the catalog is empty"
            return Identification(
                None, [], [], [], None, empty, timings, 1, reason_code="empty_catalog"
            )
        names = ["trimmed" if len(views) > 1 else "full"] + ["full"] * (len(views) - 1)
        rest = views[1:] + ([ImageOps.mirror(views[0])] if params.mirror else [])
        names += ["mirrored"] * params.mirror
        candidates = vote(hits, params.temperature)
        unsure = bool(rest) and not self._sure(views[0], hits, candidates, timings)
        screens_at: dict[int, np.ndarray] = {}  # a screen's corners in views[-1], by view index
        if unsure:
            for name, view, corners in self._inner(views[-1], timings):
                if name == "rectified":
                    screens_at[1 + len(rest)] = corners
                names.append(name)
                rest.append(view)
            per_view += self._search(rest, timings, title_id)[0]
            hits = pool_hits(per_view, params.search_k)
            candidates = vote(hits, params.temperature)
        searched = len(per_view)
        scenes = merge_scenes(hits, params.scene_drop)
        best = hits[0].similarity
        result = Identification(
            match=None,
            candidates=candidates[:top_k],
            neighbors=hits[: params.neighbors],
            scenes=scenes[: params.max_scenes],
            best_similarity=best,
            timings=timings,
            views_searched=searched,
        )
        unsure_why = doubt(candidates, best, params.min_similarity, params.min_margin)
        if unsure_why is not None:
            result = replace(result, reason_code=unsure_why.code)
            if title_id is not None:  # the title is given: only a frame can say more
                return replace(result, reason=unsure_why.reason)
            title_match, reason = self._title_answer(
                primary[0], views[0], candidates, unsure_why.reason
            )
            if title_match is not None:  # the title head reads the primary view
                title_match = replace(title_match, view=names[0])
            return replace(result, match=title_match, reason=reason)
        winner = candidates[0]
        scene = next(scene for scene in scenes if scene.title_id == winner.title_id)
        found = best_view(per_view, scene.frame_id)
        match = Match(
            title_id=winner.title_id,
            title=winner.title,
            confidence=winner.confidence,
            similarity=winner.similarity,
            episode=scene.episode,
            timestamp=scene.at,
            frame_id=scene.frame_id,
            source_id=scene.source_id,
            view=names[found],
        )
        # Unsure answers are re-ranked in pixels when the view's edges are exact (the whole
        # screenshot or the frame inside bars; a player window's, a pixel or two off, moved right
        # answers away) or it is a picture found inside, on its own pixels (`bench/robustness.py
        # --inner`). Sure ones are exact already, and the common path stays almost free, unless
        # their two best frames are neighbours near a tie (`near_tie`, window views too), an
        # exact view shows it was edited (`_edited`), or the view is a window cut out of a larger
        # picture (`rerank_window`).
        tie = params.rerank_tie
        tied = not unsure and tie is not None and near_tie(hits, winner.title_id, tie)
        edited = not unsure and crop and exact and self._edited(image)
        # Unsure, and nothing cut from the picture (bars or a window cut show an edit of the
        # frame, not a photo of a screen), every screen found at an angle and of a video's shape
        # is placed next to the winning view: which one answers is the pixels' call, not the
        # embedding's 0.01; a squarish one is a part of the screen that fits inside many frames
        # of its shot, an upright rectangle not the winner is mostly the outer picture's
        # (docs/pictures.md, 2026-12-01 03:40).
        windowed = not unsure and crop and not exact and params.rerank_window
        inner = unsure and names[found] in INNER_VIEWS
        screens = unsure and len(views) == 1
        placed = [(name, view, False, screens_at.get(index))
                  for index, (name, view) in enumerate(zip(names, [views[0], *rest], strict=True))
                  if (inner and index == found)
                  or (screens and name == "rectified" and _video_shaped(view))]  # fmt: skip
        # a window found with a strip of the outer picture past a side (its shadow's outer edge)
        # is placed cut to the previews' shape too, either side's way (docs/pictures.md, 11:50)
        if inner and names[found] == "inner":
            shaped = preview_shaped_crops([views[0], *rest][found])
            placed += [(names[found], crop, False, None) for crop in shaped]
        if not inner and ((unsure and exact) or tied or edited or windowed):
            placed.append((names[0], views[0], not windowed or tied, None))
        if placed:
            # An edited picture's exact view: its shot's tied frames are aligned precisely
            # (`index.query.align`); a clean near-tie or a window's crop never pays for it.
            settle = params.rerank_settle and ((unsure and exact) or edited)
            match = self._rerank(placed, match, hits, timings, settle, views[-1])
        span = next(scene for scene in scenes if match.frame_id in scene.frame_ids)
        return replace(result, match=replace(match, start=span.start, end=span.end))

    def _edited(self, image: Image.Image) -> bool:
        """Whether a sure answer's screenshot shows editing a clean one lacks: its size is no
        video frame's (a meme trim, a hand resize). Asked only when its borders were looked at:
        uncut, bars may still be in the picture. Embedding similarity is then sure of the shot,
        not of the moment: a trim of a moving shot lands on a neighbouring frame 0.005-0.03
        closer (docs/pictures.md, 2026-12-01 00:40)."""
        return self.params.rerank_edited and not video_sized(image.size)

    def _rerank(
        self,
        placed: list[tuple[str, Image.Image, bool, np.ndarray | None]],
        match: Match,
        hits: list[Hit],
        timings: dict[str, float],
        settle: bool = False,
        photo: Image.Image | None = None,
    ) -> Match:
        """The match moved to the winning title's frame that best contains one of the `placed`
        views (name, view, off_grid, corners) in pixels (`index.query.rerank`), when it beats the
        embedding's frame in that view by `rerank_margin`; the title never changes, the view
        becomes the placed one. Mirroring is decided once for all candidates: the orientation in
        which some candidate contains the view best (the flip check's whole-picture signatures
        misjudge crops: `bench/robustness.py`, crop70 and edit_stack exact frame up).
        `off_grid` for a view whose edges are exact: scales between the grid's are scored too.
        With `settle`, frames of the pick's shot tied with it in such a view are told apart by
        aligning each precisely (`index.query.align.settle_tie`). With `rerank_screen_fit`, a
        screen found at an angle (its `corners` in `photo`) that answers: the pick and its
        runner-up aligned to the photo, the better fit answers (`index.query.screenfit`). Sets
        `timings["rerank"]`. Any failure (a missing or unreadable thumbnail) keeps the
        embedding's answer: the re-rank refines, it never costs an answer.
        """
        limit = self.params.rerank_candidates
        if limit < 2:
            return match
        mark = time.perf_counter()
        try:
            chosen = next(hit for hit in hits if hit.frame_id == match.frame_id)
            others = [h for h in hits if h.title_id == match.title_id and h is not chosen]
            pool = [chosen, *others[: limit - 1]]
            jpegs = [self.store.thumbnail(hit.frame_id) for hit in pool]
            if len(pool) < 2 or any(jpeg is None for jpeg in jpegs):
                return match
            scores = np.stack(
                [
                    spatial_scores(view, jpegs, mirrored=None, off_grid=off)
                    for _, view, off, _ in placed
                ]
            )
            chosen_view, best = choose_view(scores)
            if scores[chosen_view, best] - scores[chosen_view, 0] < self.params.rerank_margin:
                best = 0
            name, view, exact, corners = placed[chosen_view]
            if corners is not None and photo is not None and self.params.rerank_screen_fit:
                best = fitted_pick(photo, corners, jpegs, scores[chosen_view], best)
            if settle and exact:
                frames = [(hit.episode, hit.timestamp) for hit in pool]
                best = settle_tie(view, jpegs, scores[chosen_view], frames, best)
            if best == 0:
                return match
            hit = pool[best]
            return replace(
                match,
                view=name,
                episode=hit.episode,
                timestamp=hit.timestamp,
                frame_id=hit.frame_id,
                source_id=hit.source_id,
            )
        except (OSError, ValueError, StopIteration):  # unreadable thumbnail, odd sizes
            # logged, so a failure of the re-rank itself is seen, not only an answer that is off
            log.warning("re-rank skipped, the embedding's answer kept", exc_info=True)
            return match
        finally:
            timings["rerank"] = time.perf_counter() - mark

    def _inner(self, original: Image.Image, timings: dict[str, float]) -> list[Found]:
        """The pictures inside the picture, when `inner` is on and one is found; sets
        `timings["inner"]`."""
        if not self.params.inner:
            return []
        mark = time.perf_counter()
        found = inner_views(original)
        timings["inner"] = time.perf_counter() - mark
        return found

    def _sure(
        self,
        view: Image.Image,
        hits: list[Hit],
        candidates: list[Candidate],
        timings: dict[str, float],
    ) -> bool:
        """Whether a first-pass answer is safe to return without searching the other views."""
        params = self.params
        if not sure_by_vote(
            hits[0].similarity, candidates, params.sure_similarity, params.sure_margin
        ):
            return False
        if params.sure_agreement is None:
            return True
        mark = time.perf_counter()
        try:
            return self._same_picture(view, hits[0])
        finally:
            timings["flipcheck"] = time.perf_counter() - mark

    def _same_picture(self, view: Image.Image, hit: Hit) -> bool:
        """The best hit's thumbnail shows `view` as it is: it agrees well, and better than mirrored.

        A missing or unreadable thumbnail is doubt, never an error: the second pass answers.
        """
        jpeg = self.store.thumbnail(hit.frame_id)
        if jpeg is None:
            return False
        try:
            direct, mirrored = _picture_agreement(view, jpeg)
        except (OSError, ValueError):
            return False
        return pictures_agree(direct, mirrored, self.params.sure_agreement)

    def _fit_early(self, image: Image.Image) -> Future[np.ndarray] | None:
        """The whole picture fitted to the network input on a helper thread, while this one
        looks for bars or a player window (both take a millisecond or two; a clean screenshot,
        the common case, then searches exactly this). None for an embedder that fits inside."""
        embedder = self.embedder
        if not isinstance(embedder, ArrayEmbedder):
            return None
        image.load()  # a lazily opened file is read here, not by two threads at once
        return self._helper.submit(fit_batch, [to_rgb(image)], embedder.input_size, embedder.fit)

    def _search(
        self,
        views: list[Image.Image],
        timings: dict[str, float],
        title_id: int | None,
        fitted: np.ndarray | None = None,
    ) -> tuple[list[list[Hit]], np.ndarray]:
        """Embed `views` in one batch (`fitted`: already fitted to the network input) and search
        each; adds to the embed and search timings. Returns the hits per view and the views'
        embeddings."""
        mark = time.perf_counter()
        if fitted is not None and isinstance(self.embedder, ArrayEmbedder):
            vectors = self.embedder.embed_array(fitted)
        else:
            vectors = self.embedder.embed(views)
        embedded = time.perf_counter()
        per_view = self.store.search(vectors, self.params.search_k, title_id=title_id)
        timings["embed"] += embedded - mark
        timings["search"] += time.perf_counter() - embedded
        return per_view, vectors

    def _title_answer(
        self, vector: np.ndarray, view: Image.Image, candidates: list[Candidate], reason: str
    ) -> tuple[Match | None, str]:
        """The title head's answer for a query no frame matched (its primary view's embedding
        and palette), or None and why not. Its `similarity` is still the title's best frame
        among the hits (-1 when none was a hit), as for a frame match."""
        model = self.title_head.model if self.title_head is not None else None
        if model is None:
            return None, reason
        params = self.params
        colour = colour_histogram(view)
        guess, why = decide(
            model, vector, colour, params.min_title_confidence, params.min_title_similarity
        )
        if guess is None:
            return None, f"{reason}; {why}"
        match = Match(
            title_id=guess.title_id,
            title=guess.title,
            confidence=guess.confidence,
            similarity=next(
                (c.similarity for c in candidates if c.title_id == guess.title_id), -1.0
            ),
            episode=None,
            timestamp=None,
            frame_id=None,
            source_id=None,
            kind="title",
        )
        return match, reason


def _video_shaped(view: Image.Image) -> bool:
    """Whether a picture found inside is as wide as a video for its height (`_NARROWEST`)."""
    return view.width >= _NARROWEST * view.height


def _picture_agreement(view: Image.Image, jpeg: bytes) -> tuple[float, float]:
    """(direct, mirrored) agreement of `view` with a stored thumbnail (`index.query.flipcheck`)."""
    return agreement(signature(view), thumbnail_signature(jpeg))
