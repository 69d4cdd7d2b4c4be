"""Whether an image reference is pinned: a tag other than a moving one, or a digest."""
from __future__ import annotations

import re

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


def unpinned_reason(reference: str, moving_tags: frozenset[str], require_digest: bool) -> str | None:
    """None when `reference` is pinned, else why it is not."""
    reference = reference.strip()
    if _IMAGE_ID.match(reference) or _DIGEST.search(reference):
        return None  # an image ID (RemoteImage.image_id) or a digest pin: content-addressed
    if require_digest:
        return f"image {reference!r} is not pinned by digest (@sha256:…)"
    last_component = reference.rsplit("/", 1)[-1]
    if ":" not in last_component:
        return f"image {reference!r} has no tag, so it runs whatever 'latest' points to at pull time"
    tag = last_component.split(":", 1)[1]
    if not tag:
        return f"image {reference!r} has an empty tag"
    if tag.lower() in moving_tags:
        return f"image {reference!r} uses the moving tag {tag!r}"
    return None


_COMPOSE_IMAGE = re.compile(r"^\s*image:\s*[\"']?([^\s\"'#]+)", re.MULTILINE)


def compose_images(text: str) -> list[str]:
    """Image references in a compose file (or a script embedding one); interpolated ones are skipped."""
    return [ref for ref in _COMPOSE_IMAGE.findall(text) if "$" not in ref and "{{" not in ref]
