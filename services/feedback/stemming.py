"""Stemming for content-gap topics: Elasticsearch's Porter stemmer where the server has it, else ours.

"pricing deck", "price decks" and "Pricing-Deck" are one topic only if their words reduce
to the same stems. Elasticsearch ships the Porter stemmer (`porter_stem`, the stemmer of its
`english` analyzer) in the analysis-common module; a minimal distribution can lack it, and
then `_analyze` answers 400. `Stemmer` asks the server once and falls back, for good, to
`porter_stem` below: the classic algorithm (M. F. Porter, "An algorithm for suffix
stripping", 1980, steps 1a to 5b), so both paths give the same stems.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Iterable, Sequence

from elasticsearch import ApiError, Elasticsearch

log = logging.getLogger(__name__)

ANALYZE_CHUNK = 2000  # words per _analyze call (the server's default token limit is 10,000)
_VOWELS = frozenset("aeiou")


def _is_consonant(word: str, i: int) -> bool:
    """Porter's consonant: not a vowel, and `y` only when it follows a vowel (or starts the word)."""
    ch = word[i]
    if ch in _VOWELS:
        return False
    if ch == "y":
        return i == 0 or not _is_consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """m in [C](VC){m}[V]: how many vowel-consonant sequences the stem has."""
    forms = "".join("c" if _is_consonant(stem, i) else "v" for i in range(len(stem)))
    return len(re.findall("vc", re.sub(r"(.)\1+", r"\1", forms)))


def _has_vowel(stem: str) -> bool:
    return any(not _is_consonant(stem, i) for i in range(len(stem)))


def _double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _is_consonant(word, len(word) - 1)


def _cvc(word: str) -> bool:
    """Ends consonant-vowel-consonant, the last not w, x or y (as in hop, not in snow)."""
    if len(word) < 3:
        return False
    n = len(word)
    return (_is_consonant(word, n - 3) and not _is_consonant(word, n - 2) and _is_consonant(word, n - 1)
            and word[-1] not in "wxy")


def _replace(word: str, rules: Sequence[tuple[str, str]], min_measure: int) -> str:
    """The first rule whose suffix ends the word applies (if the stem's measure allows); others do not."""
    for suffix, replacement in rules:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if _measure(stem) > min_measure else word
    return word


_STEP2 = (("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
          ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"),
          ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"),
          ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("logi", "log"))
_STEP3 = (("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""))
_STEP4 = ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate",
          "iti", "ous", "ive", "ize")


def _step1(word: str) -> str:
    if word.endswith("sses") or word.endswith("ies"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("eed"):
        return word[:-1] if _measure(word[:-3]) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            word = word[: -len(suffix)]
            if word.endswith(("at", "bl", "iz")):
                return word + "e"
            if _double_consonant(word) and word[-1] not in "lsz":
                return word[:-1]
            if _measure(word) == 1 and _cvc(word):
                return word + "e"
            return word
    return word


def _step4(word: str) -> str:
    for suffix in sorted(_STEP4, key=len, reverse=True):
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            if suffix == "ion" and not stem.endswith(("s", "t")):
                return word
            return stem if _measure(stem) > 1 else word
    return word


def _step5(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            word = stem
    if word.endswith("ll") and _measure(word) > 1:
        word = word[:-1]
    return word


def porter_stem(word: str) -> str:
    """The Porter stem of one lower-case word ("pricing" -> "price", "decks" -> "deck")."""
    if len(word) <= 2 or not word.isalpha():
        return word
    word = _step1(word)
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    word = _replace(word, _STEP2, 0)
    word = _replace(word, _STEP3, 0)
    return _step5(_step4(word))


class Stemmer:
    """Stems words with the server's `porter_stem` filter when it has one, else with `porter_stem`.

    The answer of the first call decides for the process (a 400 naming the missing filter);
    a server that is down raises, like any other report query.
    """

    def __init__(self, es: Elasticsearch | None) -> None:
        self.es = es
        self._server_has_it: bool | None = None if es is not None else False
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        """`elasticsearch` or `builtin`: who stems (after the first call)."""
        return "elasticsearch" if self._server_has_it else "builtin"

    def stems(self, words: Iterable[str]) -> dict[str, str]:
        """Each distinct word mapped to its stem."""
        distinct = sorted(set(words))
        if self._server_has_it is not False and distinct:
            server = self._server_stems(distinct)
            if server is not None:
                return server
        return {w: porter_stem(w) for w in distinct}

    def _server_stems(self, words: list[str]) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for i in range(0, len(words), ANALYZE_CHUNK):
            chunk = words[i:i + ANALYZE_CHUNK]
            try:
                # The keyword tokenizer keeps each array element one token, so tokens map back by position.
                tokens = self.es.indices.analyze(tokenizer="keyword", filter=["lowercase", "porter_stem"],
                                                 text=chunk)["tokens"]
            except ApiError as exc:
                if exc.meta.status != 400:
                    raise
                with self._lock:
                    if self._server_has_it is None:
                        log.info("Elasticsearch has no porter_stem filter (%s); stemming in Python", exc.message)
                    self._server_has_it = False
                return None
            if len(tokens) != len(chunk):
                return None
            out.update(zip(chunk, (t["token"] for t in tokens)))
        self._server_has_it = True
        return out
