"""Hosting a partner nation's embassy shares: agreements, versions kept under retention, and
the purges a guest signs (docs/embassy-hosting.md).

The host stores only opaque bytes and never holds a key. Its admin makes an agreement for a
guest partner (:mod:`.agreements`); the guest's node, acting as the partner's account, puts and
reads objects under it (:mod:`.objects`); every version is kept until the rules of
:mod:`.retention` let it go.
"""
