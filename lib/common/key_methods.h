/*
 * key_methods.h - OpenSSL's built-in EC and Ed25519 key methods for the
 * TLS handshake, in place of its provider round trip (OpenSSL 3.0, 3.1).
 *
 * OpenSSL 3.0 and 3.1 build a decoder chain for every public key they
 * parse (a certificate's: 60-90 µs) and fetch and match provider
 * implementations for every signature they make or check; on a full
 * mutual-TLS login that is a third of both sides' CPU
 * (docs/benchmarks.md, "Scenario C"). Registering the library's own
 * built-in methods for these two key types makes libcrypto take its
 * direct path: the same OpenSSL implementations of P-256, ECDSA and
 * Ed25519, reached without the lookups. Nothing of ours computes.
 *
 * Left to the providers: under FIPS (the FIPS provider must do the
 * work), with OpenSSL 3.2 or later (which caches what 3.0 rebuilds), or
 * in a libcrypto built without engines. Process-wide: call once, at
 * start, before any thread.
 */
#ifndef BW_KEY_METHODS_H
#define BW_KEY_METHODS_H

/* 1: the built-in methods are in use; 0: left to the providers (above);
 * BW_ERR_OPENSSL when libcrypto refused them (the providers stay). */
int bw_key_methods_use_builtin(void);

#endif
