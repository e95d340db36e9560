"""The live site: the configuration being served now (swapped whole on a good reload, kept on a
refused one), with the credential store, nonce secret and Digest authenticator that go with it,
and the profiles rendered for it.  No HTTP here: `spaprov.server` serves what this holds."""
