/*  =========================================================================
    oauth_crypto - what OAuth needs of cryptography, from OpenSSL's libcrypto

    Random values (PKCE verifiers, state, JWT ids), base64url without
    padding (RFC 7636 appendix A), SHA-256 (the S256 code challenge), and
    JWT signatures with RS256 or ES256 (RFC 7515; ECDSA signatures in the
    JOSE r||s form, not DER). Nothing here keeps state: safe from any
    thread. Every returned string is malloc'ed; the caller frees it.
    =========================================================================
*/

#ifndef MCPACT_OAUTH_CRYPTO_H_INCLUDED
#define MCPACT_OAUTH_CRYPTO_H_INCLUDED

#include <jansson.h>
#include <stddef.h>

//  base64url of `size` bytes, without '=' padding.
char *oauth_base64url (const unsigned char *data, size_t size);

//  Standard base64 (with padding), for HTTP Basic credentials.
char *oauth_base64 (const unsigned char *data, size_t size);

//  `bytes` random bytes from the OS's generator, as base64url. NULL if the
//  generator failed (never a weak value instead).
char *oauth_random (size_t bytes);

//  The PKCE S256 challenge of a verifier: base64url (SHA-256 (verifier)).
char *oauth_s256 (const char *verifier);

//  A signed JWT (header.claims.signature) over `claims`, with the PEM
//  private key in `pem`. `alg` is "RS256" or "ES256", or NULL to take it
//  from the key (RSA -> RS256, P-256 -> ES256). NULL with the reason in
//  *error (malloc'ed) if the key cannot be read or does not fit `alg`.
char *oauth_jwt_sign (const char *pem, const char *alg, json_t *claims, char **error);

#endif
