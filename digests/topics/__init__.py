"""Topic taxonomy and keyword tagging for policy news.

The taxonomy lives in a TOML file (``digests/data/taxonomy.toml`` by default) so a team can
extend it without code: each topic has weighted literal phrases, weighted regexes, and negative
cues that mask ambiguous uses ("trade deadline", "social security", "potato chips"). Tagging is
a transparent weighted-evidence score rather than a trained model because the labels we have
are few and silver, and because a Slack user must be able to see *why* a tag was given (the
evidence list) and fix it with ``/digest topics add``.

Modules: ``model`` (cues, topics, parameters), ``loader`` (TOML to model, with errors that name
the entry), ``matcher`` (find every cue in one pass over the words), ``scoring`` (regions,
repeats, negatives, threshold), ``taxonomy`` (the object tying them together), ``shown`` (the
one tag list every view shows). Pure: standard library only, no I/O beyond reading the file.
"""

from digests.topics.model import Cue, Params, Topic
from digests.topics.shown import shown_tags
from digests.topics.taxonomy import DEFAULT_TAXONOMY_PATH, Taxonomy, default_taxonomy, tag_article

__all__ = [
    "Cue",
    "Params",
    "Taxonomy",
    "Topic",
    "DEFAULT_TAXONOMY_PATH",
    "default_taxonomy",
    "shown_tags",
    "tag_article",
]
