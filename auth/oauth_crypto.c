/*  =========================================================================
    oauth_crypto - what OAuth needs of cryptography, from libcrypto (see .h)
    =========================================================================
*/

#include "oauth_crypto.h"

#include "text.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
oauth_base64 (const unsigned char *data, size_t size)
{
    char *text = (char *) malloc (4 * ((size + 2) / 3) + 1);
    if (text)
        EVP_EncodeBlock ((unsigned char *) text, data, (int) size);
    return text;
}

char *
oauth_base64url (const unsigned char *data, size_t size)
{
    char *text = oauth_base64 (data, size);
    if (!text)
        return NULL;
    size_t length = strlen (text);
    while (length > 0 && text[length - 1] == '=')
        text[--length] = '\0';
    for (char *p = text; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return text;
}

char *
oauth_random (size_t bytes)
{
    unsigned char buffer[64];
    if (bytes > sizeof buffer || RAND_bytes (buffer, (int) bytes) != 1)
        return NULL;
    return oauth_base64url (buffer, bytes);
}

char *
oauth_s256 (const char *verifier)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest (verifier, strlen (verifier), digest, &size, EVP_sha256 (), NULL) != 1)
        return NULL;
    return oauth_base64url (digest, size);
}

//  base64url of a JSON value's compact text.
static char *
s_encode_json (json_t *value)
{
    char *text = json_dumps (value, JSON_COMPACT);
    char *encoded = text ? oauth_base64url ((const unsigned char *) text, strlen (text)) : NULL;
    free (text);
    return encoded;
}

//  An ECDSA signature, DER as OpenSSL makes it, in the JOSE form: r and s
//  each as `half` big-endian bytes, one after the other (RFC 7518 3.4).
static char *
s_ecdsa_jose (const unsigned char *der, size_t size, int half)
{
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG (NULL, &cursor, (long) size);
    if (!signature)
        return NULL;
    unsigned char raw[132];
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0 (signature, &r, &s);
    char *encoded = NULL;
    if (2 * half <= (int) sizeof raw && BN_bn2binpad (r, raw, half) == half &&
        BN_bn2binpad (s, raw + half, half) == half)
        encoded = oauth_base64url (raw, (size_t) (2 * half));
    ECDSA_SIG_free (signature);
    return encoded;
}

char *
oauth_jwt_sign (const char *pem, const char *alg, json_t *claims, char **error)
{
    *error = NULL;
    BIO *bio = BIO_new_mem_buf (pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
    BIO_free (bio);
    if (!key) {
        *error = text_format ("the private key is not a PEM private key (PKCS#8, RSA or EC)");
        return NULL;
    }
    int type = EVP_PKEY_base_id (key);
    if (!alg)
        alg = type == EVP_PKEY_RSA ? "RS256" : "ES256";
    bool ecdsa = strcmp (alg, "ES256") == 0;
    if (!ecdsa && strcmp (alg, "RS256") != 0)
        *error = text_format ("signing algorithm %s is not supported (RS256 or ES256)", alg);
    else if (ecdsa && (type != EVP_PKEY_EC || EVP_PKEY_bits (key) != 256))
        *error = text_format ("ES256 needs a P-256 EC key");
    else if (!ecdsa && type != EVP_PKEY_RSA)
        *error = text_format ("RS256 needs an RSA key");
    if (*error) {
        EVP_PKEY_free (key);
        return NULL;
    }
    json_t *header = json_pack ("{s:s, s:s}", "alg", alg, "typ", "JWT");
    char *head = s_encode_json (header), *body = s_encode_json (claims), *input = NULL;
    json_decref (header);
    if (head && body)
        input = text_format ("%s.%s", head, body);
    free (head);
    free (body);
    unsigned char *signature = NULL;
    size_t size = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new ();
    bool ok =
        input && context && EVP_DigestSignInit (context, NULL, EVP_sha256 (), NULL, key) == 1 &&
        EVP_DigestSign (context, NULL, &size, (const unsigned char *) input, strlen (input)) == 1 &&
        (signature = (unsigned char *) malloc (size)) &&
        EVP_DigestSign (context, signature, &size, (const unsigned char *) input, strlen (input)) ==
            1;
    EVP_MD_CTX_free (context);
    EVP_PKEY_free (key);
    char *encoded = NULL, *token = NULL;
    if (ok)
        encoded = ecdsa ? s_ecdsa_jose (signature, size, 32) : oauth_base64url (signature, size);
    if (encoded)
        token = text_format ("%s.%s", input, encoded);
    else
        *error = text_format ("signing the JWT failed");
    free (signature);
    free (encoded);
    free (input);
    return token;
}
