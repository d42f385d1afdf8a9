"""Federation: what every pillar uses to deal with partner nodes.

- :mod:`~seawall.core.federation.errors`: the typed partner errors (unreachable, timed out,
  garbage, refused, identity mismatch, not linked, disabled) and a bad public key.
- :mod:`~seawall.core.federation.identity`: the node's Ed25519 key, and the signed answer to
  a partner's identity challenge.
- :mod:`~seawall.core.federation.link`: an HTTP client bound to one partner (its URL and
  token, timeouts, a size cap on answers, JSON checked before use) that proves the partner's
  identity with a challenge.
- :mod:`~seawall.core.federation.links`: the partner's link state: the token it issued us
  (stored with ``link_partner``), the last error and the backoff every pillar respects.
- :mod:`~seawall.core.federation.packages`: the signed package format for files carried
  between nodes by hand (a magic line, a JSON header, a detached signature, a zstd payload),
  opened only with a registered partner's key.
- :mod:`~seawall.core.federation.retries`: when to try a partner again after failures
  (exponential backoff, capped at an hour).
- :mod:`~seawall.core.federation.tokens`: the API token a partner issued us, sealed at rest
  under a key derived from the node secret.

A pillar builds its own exchange on top (intel's TAXII sync and offline bundles), so every
pillar shares one node identity, one partner record (:mod:`seawall.core.partners`) and one
signed-package format.
"""
