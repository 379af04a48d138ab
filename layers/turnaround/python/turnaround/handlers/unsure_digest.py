"""UnsureDigestFunction's wiring: email the posts triage was unsure of (logic/rep_actions/review)."""

from __future__ import annotations

from turnaround.handlers import container
from turnaround.logic.rep_actions.review import ReviewLinkSigner, ReviewQueue, UnsureDigest
from turnaround.settings import DigestSettings, get_settings


@container.per_container
def unsure_digest() -> UnsureDigest:
    settings = get_settings(DigestSettings)
    return UnsureDigest(
        queue=ReviewQueue(container.store(settings.TABLE_NAME)),
        mailer=container.mailer(),
        signer=ReviewLinkSigner(container.link_keys(settings.ACTION_LINK_SECRET_NAME)),
        playbook=container.playbook(settings.PLAYBOOK_PATH),
        action_url=settings.ACTION_URL,
    )


def send_digests() -> dict[str, int]:
    """Posts in each monitored handle's digest (0: nothing new, no email)."""
    digest = unsure_digest()
    return {handle: digest.send(handle) for handle in get_settings(DigestSettings).MONITORED_HANDLES}
