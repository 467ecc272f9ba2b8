"""Identify's knobs and their measured defaults, one place for the server's settings, the
catalog's calibration and the benches to read (docs/calibration.md)."""

from __future__ import annotations

from dataclasses import dataclass

# docs/calibration.md#adaptive-search-sure_similarity-sure_margin-sure_agreement
SURE_SIMILARITY = 0.90
SURE_MARGIN = 0.25  # a clean query's vote is near unanimous (lead ~0.9); near-ties get every view
SURE_AGREEMENT = 0.90
# docs/calibration.md#spatial-re-rank-rerank_candidates-rerank_margin-rerank_tie
RERANK_CANDIDATES = 10
RERANK_MARGIN = 0.0  # scored at 2x the preview, the best frame is the answer (docs/pictures.md)
RERANK_TIE = 0.01  # docs/pictures.md: a sure answer between two neighbouring frames is re-ranked
# Title-level answers (index.query.titlehead; docs/titlehead.md: pretrained Lite0, 80 generated
# titles, leave-episode-out, the middle of the points chosen for <= 4% wrong and >= 96% of
# withheld titles unknown: an honest "unknown" before a guess; (0.34, 0.70) since the gate also
# reads the grey histogram stored from the pixels, docs/titlehead.md "Grey from the pixels"; they
# hold for the head in the catalog's principal axes, "The head in the catalog's principal basis").
MIN_TITLE_CONFIDENCE = 0.34
MIN_TITLE_SIMILARITY = 0.70
# `python -m bench.scenes` (docs/scenes.md): see `IdentifyParams.scene_drop`.
SCENE_DROP = 0.02


@dataclass(frozen=True, slots=True)
class IdentifyParams:
    """Search and decision knobs; defaults measured in docs/calibration.md.

    Adaptive search: every extra view costs a full embedding (most of a query's time), and most
    screenshots are answered by their primary view alone (the crop when bars or a player window
    were found, else the original). So the primary view is searched first, and the remaining
    views (the original, the mirror, a screen or window found inside by `index.query.inner`) are
    embedded in one batch and pooled only when that answer is not sure: best similarity below
    `sure_similarity`, a confidence lead below `sure_margin`, or a best hit whose stored
    thumbnail does not show the query's picture (a 32x18 grayscale
    correlation below `sure_agreement`, or below that of the mirrored thumbnail): a flipped
    re-upload scores high on a wrong moment, but its thumbnail agrees only mirrored, so it still
    gets the mirror view. `sure_similarity=None` always searches every view; `sure_agreement=None`
    skips the picture check.

    Spatial re-rank (`index.query.rerank`): an unsure answer of a screenshot that needed no crop,
    or only bars trimmed (a 70% crop, a cropped meme, mostly) moves to the winning title's frame,
    among its `rerank_candidates` best, whose thumbnail best contains the query in pixels, if that
    beats the chosen frame's spatial score by `rerank_margin`. `rerank_candidates < 2` turns it off.
    A sure answer is re-ranked too when the title's two best frames are neighbouring kept frames
    within `rerank_tie` in similarity (`index.query.vote.near_tie`); None: never. With
    `rerank_edited`, so is a sure answer of an exact view whose screenshot has a size no video
    frame has (`index.query.screenshot.video_sized`: a meme trim, a hand resize); with
    `rerank_window`, so is a sure answer of a player window's crop (a frame inside another
    picture lands on a neighbouring moment as a trim does). With `rerank_settle`, the frames of
    the pick's shot tied with it in an edited picture's exact view are aligned to it precisely and
    the best fit answers (`index.query.align`). With `rerank_screen_fit`, when a screen found at
    an angle answers, the re-rank's pick and runner-up are each aligned to the photo from the
    found corners (a homography) and the better fit answers (`index.query.screenfit`): the found
    corners are a pixel or two off, and which frame fits them best turns on those pixels.
    """

    search_k: int = 50  # frames fetched per query view
    min_similarity: float = 0.82  # best-frame cosine similarity below which the answer is unknown
    min_margin: float = 0.10  # confidence lead over the runner-up title required to answer
    mirror: bool = True  # also search the horizontally flipped screenshot
    crop: bool = True  # trim bars and crop a player window before searching
    inner: bool = True  # unsure: also search the picture inside the picture (`index.query.inner`)
    scene_drop: float = SCENE_DROP  # neighbouring frames this close to the best join its scene
    temperature: float = 0.03  # vote weight exp((sim - best) / T): near-best frames dominate
    neighbors: int = 10  # nearest frames returned for display
    max_scenes: int = 10
    sure_similarity: float | None = SURE_SIMILARITY  # first pass this close: skip other views
    sure_margin: float = SURE_MARGIN  # ...and with this confidence lead over the runner-up
    sure_agreement: float | None = SURE_AGREEMENT  # ...and the best hit's picture agrees this well
    rerank_candidates: int = RERANK_CANDIDATES  # winner's best frames re-ranked in pixels; <2: off
    rerank_margin: float = RERANK_MARGIN  # spatial score lead needed to move the timestamp
    rerank_tie: float | None = RERANK_TIE  # sure, but its two best frames this close: re-rank
    rerank_edited: bool = True  # sure, but a size no video frame has (edited): re-rank
    rerank_window: bool = True  # sure, but of a window cut out of a larger picture: re-rank
    rerank_settle: bool = True  # an edited exact view: its shot's tied frames aligned precisely
    rerank_screen_fit: bool = True  # a screen found at an angle: pick or runner-up, aligned
    # A title-level answer (no episode or time) when no frame is close: the head's probability
    # and its gate (the palette similarity of the query's colour histogram to that title's
    # nearest fitted frame, blended with the probability: `index.query.titlehead.gate_score`)
    # must both reach these.
    min_title_confidence: float = MIN_TITLE_CONFIDENCE
    min_title_similarity: float = MIN_TITLE_SIMILARITY

    def __post_init__(self) -> None:
        if self.search_k < 1:
            raise ValueError(f"search_k must be >= 1, got {self.search_k}")
        if not -1.0 <= self.min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in [-1, 1], got {self.min_similarity}")
        if not 0.0 <= self.min_margin <= 1.0:
            raise ValueError(f"min_margin must be in [0, 1], got {self.min_margin}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if not 0.0 <= self.scene_drop <= 2.0:
            raise ValueError(f"scene_drop must be in [0, 2], got {self.scene_drop}")
        if self.sure_similarity is not None and not -1.0 <= self.sure_similarity <= 1.0:
            raise ValueError(f"sure_similarity must be in [-1, 1], got {self.sure_similarity}")
        if not 0.0 <= self.sure_margin <= 1.0:
            raise ValueError(f"sure_margin must be in [0, 1], got {self.sure_margin}")
        if self.sure_agreement is not None and not -1.0 <= self.sure_agreement <= 1.0:
            raise ValueError(f"sure_agreement must be in [-1, 1], got {self.sure_agreement}")
        if self.rerank_candidates < 0:
            raise ValueError(f"rerank_candidates must be >= 0, got {self.rerank_candidates}")
        if not 0.0 <= self.rerank_margin <= 2.0:
            raise ValueError(f"rerank_margin must be in [0, 2], got {self.rerank_margin}")
        if self.rerank_tie is not None and not 0.0 <= self.rerank_tie <= 2.0:
            raise ValueError(f"rerank_tie must be in [0, 2], got {self.rerank_tie}")
        if not 0.0 <= self.min_title_confidence <= 1.0:
            raise ValueError(
                f"min_title_confidence must be in [0, 1], got {self.min_title_confidence}"
            )
        if not -1.0 <= self.min_title_similarity <= 1.0:
            raise ValueError(
                f"min_title_similarity must be in [-1, 1], got {self.min_title_similarity}"
            )
