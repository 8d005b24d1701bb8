"""Deterministic generator of realistic Danish focus-group transcripts for benchmarks.

Turns of the demo corpus (``corpus/``) are shuffled and recombined with a fixed
seed: each generated focus group takes the front matter (site, target groups,
moderator) and participants of one demo transcript ("home"), and draws its turns
from the whole corpus; a moderator turn is spoken by the home moderator, any other
turn by one of the home participants. Files are written as ``.txt`` in the
transcript grammar (front matter, ``[hh:mm:ss] Name (role): text``, blank line
between paragraphs), so importing them exercises the real reader.

    python -m benchmarks.generate --words 100000 --out /tmp/gen100k
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from evaltool.importer import is_moderator
from evaltool.ingest import expand_paths, read_document

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = 2016
GROUP_WORDS = 10_000  # words per generated focus group (about 75 minutes of talk)
WORDS_PER_SECOND = 2.5  # speaking rate for the generated timestamps


@dataclass(frozen=True)
class PoolTurn:
    """A demo turn stripped of its speaker."""

    paragraphs: tuple[str, ...]
    moderator: bool
    words: int


@dataclass(frozen=True)
class Home:
    """What a generated focus group borrows from one demo transcript."""

    metadata: dict
    moderator: str
    participants: tuple[tuple[str, str | None], ...]  # (name, role)


@dataclass(frozen=True)
class Pool:
    """All demo turns and the demo transcripts' front matter and speakers."""

    turns: tuple[PoolTurn, ...]
    homes: tuple[Home, ...]


def load_pool(corpus: Path = CORPUS) -> Pool:
    """Read the demo corpus into a pool of turns and homes."""
    turns: list[PoolTurn] = []
    homes: list[Home] = []
    for path in expand_paths([corpus]):
        doc = read_document(path)
        roles: dict[str, str | None] = {}
        moderator = str(doc.metadata.get("moderator") or "Ordstyrer")
        for t in doc.turns:
            mod = is_moderator(t.speaker, doc.metadata)
            if mod:
                moderator = t.speaker
            elif t.speaker not in roles or (roles[t.speaker] is None and t.role):
                roles[t.speaker] = roles.get(t.speaker) or t.role
            turns.append(PoolTurn(t.paragraphs, mod, sum(len(p.split()) for p in t.paragraphs)))
        meta = {k: doc.metadata[k] for k in ("title", "site", "date", "target_groups")
                if k in doc.metadata}
        homes.append(Home(meta, moderator, tuple(roles.items())))
    return Pool(tuple(turns), tuple(homes))


def _stamp(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def transcript_lines(pool: Pool, rng: random.Random, index: int, words: int) -> Iterator[str]:
    """Lines of one generated focus group of about ``words`` words (streamed)."""
    home = pool.homes[index % len(pool.homes)]
    meta = dict(home.metadata)
    meta["title"] = f"Fokusgruppeinterview – {meta.get('site', 'ukendt')} (syntetisk {index + 1})"
    date = dt.date.fromisoformat(str(meta.get("date", "2016-11-01"))) + dt.timedelta(days=index)
    meta["date"] = date.isoformat()
    meta["moderator"] = home.moderator
    yield "---"
    yield from yaml.safe_dump(meta, allow_unicode=True, sort_keys=False,
                              default_flow_style=None, width=1000).splitlines()
    yield "---"
    said: set[str] = set()
    order = list(range(len(pool.turns)))
    clock, done = 5.0, 0
    while done < words:
        rng.shuffle(order)
        for i in order:
            turn = pool.turns[i]
            if turn.moderator:
                name, role = home.moderator, None
            else:
                name, role = rng.choice(home.participants)
            label = f"{name} ({role})" if role and name not in said else name
            said.add(name)
            # The grammar's timestamps have at most two hour digits; a transcript longer
            # than 100 hours (only the memory benchmark's) goes on without them.
            stamp = f"[{_stamp(clock)}] " if clock < 100 * 3600 else ""
            yield f"{stamp}{label}: {turn.paragraphs[0]}"
            for para in turn.paragraphs[1:]:
                yield ""
                yield para
            clock += turn.words / WORDS_PER_SECOND + rng.uniform(1, 6)
            done += turn.words
            if done >= words:
                return


def generate(words: int, out: Path, *, seed: int = SEED, group_words: int = GROUP_WORDS,
             pool: Pool | None = None) -> list[Path]:
    """Write focus groups totalling about ``words`` words into ``out``; return their paths."""
    pool = pool or load_pool()
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths, index, left = [], 0, words
    while left > 0:
        size = min(group_words, left)
        home = pool.homes[index % len(pool.homes)]
        slug = str(home.metadata.get("site", "fg")).lower().replace(" ", "_")
        path = out / f"fg{index + 1:04d}_{slug}.txt"
        with path.open("w", encoding="utf-8") as fh:
            for line in transcript_lines(pool, rng, index, size):
                fh.write(line + "\n")
        paths.append(path)
        index += 1
        left -= size
    return paths


def generate_bytes(size: int, path: Path, *, seed: int = SEED, pool: Pool | None = None) -> Path:
    """Write one transcript of at least ``size`` bytes (UTF-8) to ``path``."""
    pool = pool or load_pool()
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    # Words are a proxy for bytes here: ask for far more than needed and stop at the size.
    with path.open("w", encoding="utf-8") as fh:
        for line in transcript_lines(pool, rng, 0, size):
            fh.write(line + "\n")
            written += len(line.encode("utf-8")) + 1
            if written >= size:
                break
    return path


def count_words(paths: list[Path]) -> int:
    """Words in the turns of these transcripts (whitespace-separated, as read back)."""
    return sum(len(p.split()) for path in paths for t in read_document(path).turns
               for p in t.paragraphs)


def main() -> None:
    """Command line: write a generated corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    paths = generate(args.words, args.out, seed=args.seed)
    print(f"{len(paths)} transcripts, {count_words(paths)} words in {args.out}")


if __name__ == "__main__":
    main()
