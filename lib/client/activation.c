/* activation.c - the steps of a device activation: the server's CA,
 * SPAKE2+ as Prover (RFC 9383 §3.3, §3.4) bound to the TLS session, and
 * the certificate that comes back. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "activation.h"
#include "pki.h"
#include "spake2plus.h"

static struct proto_span span_of(const char *s)
{
	return (struct proto_span){ (const uint8_t *)s, strlen(s) };
}

/* Every refusal of the server looks the same from here: status 5. */
static int activation_status(const struct bulwark_session *s, int rc)
{
	if (rc == BULWARK_ERR_REFUSED &&
	    s->last_status == PROTO_E_ACTIVATION_FAILED)
		return BULWARK_ERR_ACTIVATION_REFUSED;
	return rc;
}

/* ---- the CA the server presents ---- */

static int der_of(X509 *x, struct bw_bytes *out)
{
	uint8_t *der = NULL;
	int len = i2d_X509(x, &der), rc;

	rc = len > 0 && bw_bytes_set(out, der, (size_t)len) == 0
		     ? 0
		     : BULWARK_ERR_CA_MISMATCH;
	OPENSSL_free(der);
	return rc;
}

int act_server_ca(SSL *ssl, const uint8_t fingerprint[BULWARK_FINGERPRINT_LEN],
		  struct bw_bytes *ca)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	struct bw_bytes leaf_der = { 0 }, found = { 0 };
	uint8_t fp[BULWARK_FINGERPRINT_LEN];
	unsigned int n;
	int rc = BULWARK_ERR_CA_MISMATCH;

	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_digest(x, EVP_sha256(), fp, &n) == 1 &&
		    n == sizeof(fp) &&
		    CRYPTO_memcmp(fp, fingerprint, sizeof(fp)) == 0) {
			if (der_of(x, &found) != 0)
				goto out;
			break;
		}
	}
	/* The certificate of this very session must come from that CA. */
	if (found.len == 0 || leaf == NULL || der_of(leaf, &leaf_der) != 0 ||
	    ca_verify_server_cert(found.p, found.len, leaf_der.p, leaf_der.len,
				  0) != 0)
		goto out;
	bw_bytes_move(ca, &found);
	rc = 0;
out:
	bw_bytes_clear(&found);
	bw_bytes_clear(&leaf_der);
	ERR_clear_error();
	return rc;
}

/* ---- SPAKE2+ ---- */

/* ACTIVATE_PARAMS: the salt and scrypt costs of the code, within this
 * device's limits (a server cannot make it spend unbounded memory). */
static int get_kdf(struct bulwark_session *s, const struct act_claim *c,
		   struct pake_pbkdf *kdf)
{
	struct proto_activate_params_req req = { span_of(c->user),
						 span_of(c->code_id) };
	struct proto_activate_params_resp resp;
	struct proto_kdf_params params;
	struct proto_msg m;
	int rc;

	proto_encode_activate_params_req(session_body(s), &req);
	if ((rc = session_call_body(s, PROTO_T_ACTIVATE_PARAMS, &m)) != 0)
		return activation_status(s, rc);
	if (proto_decode_activate_params_resp(&m, &resp) != 0 ||
	    proto_decode_kdf_params(resp.kdf_params.p, resp.kdf_params.n,
				    &params) != 0 ||
	    resp.salt.n > sizeof(kdf->salt))
		return BULWARK_ERR_PROTOCOL;
	memset(kdf, 0, sizeof(*kdf));
	kdf->n = params.n;
	kdf->r = params.r;
	kdf->p = params.p;
	memcpy(kdf->salt, resp.salt.p, resp.salt.n);
	kdf->salt_len = resp.salt.n;
	if (params.kdf != PROTO_KDF_SCRYPT || pake_pbkdf_check(kdf) != 0)
		return BULWARK_ERR_KDF_PARAMS;
	return 0;
}

/* The Prover, with Context = prefix || TLS exporter of this session, so
 * that a relay terminating TLS sees another Context (docs/protocol.md). */
static int make_prover(struct bulwark_session *s, const struct act_claim *c,
		       const struct pake_pbkdf *kdf, uint8_t *context,
		       uint8_t *id_prover, struct pake_prover **out)
{
	uint8_t exporter[PROTO_ACTIVATION_EXPORTER_LEN];
	struct bw_bytes w0 = { 0 }, w1 = { 0 };
	struct pake_config pc = { .suite = PAKE_SUITE_BULWARK };
	int rc = BULWARK_ERR_TLS;

	if (SSL_export_keying_material(transport_ssl(s->t), exporter,
				       sizeof(exporter),
				       PROTO_ACTIVATION_EXPORTER_LABEL,
				       sizeof(PROTO_ACTIVATION_EXPORTER_LABEL) - 1,
				       NULL, 0, 0) != 1)
		goto out;
	proto_activation_context(exporter, context);
	pc.context = context;
	pc.context_len = PROTO_ACTIVATION_CONTEXT_LEN;
	pc.ids.prover = id_prover;
	pc.ids.prover_len = proto_activation_id_prover(
		(const uint8_t *)c->user, strlen(c->user),
		(const uint8_t *)c->code_id, strlen(c->code_id), id_prover);
	pc.ids.verifier = (const uint8_t *)c->id_verifier;
	pc.ids.verifier_len = strlen(c->id_verifier);
	if ((rc = pake_password_scalars(PAKE_SUITE_BULWARK, kdf,
					(const uint8_t *)c->password,
					strlen(c->password), &pc.ids, &w0,
					&w1)) == 0)
		rc = pake_prover_new(out, &pc, w0.p, w0.len, w1.p, w1.len);
out:
	OPENSSL_cleanse(exporter, sizeof(exporter));
	bw_bytes_clear(&w0);
	bw_bytes_clear(&w1);
	ERR_clear_error();
	return rc;
}

/* ACTIVATE_START: shareP out, shareV and confirmV back. */
static int exchange(struct bulwark_session *s, const struct act_claim *c,
		    struct pake_prover *p, struct bw_bytes *confirm_p)
{
	struct bw_bytes share_p = { 0 };
	struct proto_activate_start_req req;
	struct proto_activate_start_resp resp;
	struct proto_msg m;
	int rc;

	if ((rc = pake_prover_share(p, &share_p)) != 0)
		return rc;
	req = (struct proto_activate_start_req){
		span_of(c->user), span_of(c->code_id),
		{ share_p.p, share_p.len },
	};
	proto_encode_activate_start_req(session_body(s), &req);
	rc = session_call_body(s, PROTO_T_ACTIVATE_START, &m);
	bw_bytes_clear(&share_p);
	if (rc != 0)
		return activation_status(s, rc);
	if (proto_decode_activate_start_resp(&m, &resp) != 0)
		return BULWARK_ERR_PROTOCOL;
	/* The server did not prove knowledge of the record for this password
	 * and this TLS session: whatever the reason, the same refusal. */
	if (pake_prover_finish(p, resp.share_v.p, resp.share_v.n,
			       resp.confirm_v.p, resp.confirm_v.n,
			       confirm_p) != 0)
		return BULWARK_ERR_ACTIVATION_REFUSED;
	return 0;
}

int act_prove(struct bulwark_session *s, const struct act_claim *c,
	      struct bw_bytes *confirm_p)
{
	uint8_t context[PROTO_ACTIVATION_CONTEXT_LEN];
	uint8_t id_prover[PROTO_MAX_ID_PROVER];
	struct pake_pbkdf kdf;
	struct pake_prover *p = NULL;
	int rc;

	if ((rc = get_kdf(s, c, &kdf)) == 0 &&
	    (rc = make_prover(s, c, &kdf, context, id_prover, &p)) == 0)
		rc = exchange(s, c, p, confirm_p);
	pake_prover_free(p);
	return rc;
}

/* ---- the certificate ---- */

static int finish_request(struct bulwark_session *s,
			  const struct bw_bytes *confirm_p, EVP_PKEY *key,
			  const char *device_name, struct proto_msg *m)
{
	struct proto_activate_finish_req req;
	uint8_t *spki = NULL;
	int spki_len = i2d_PUBKEY(key, &spki), rc;

	if (spki_len <= 0)
		return BULWARK_ERR_KS_CRYPTO;
	req = (struct proto_activate_finish_req){
		{ confirm_p->p, confirm_p->len },
		{ spki, (size_t)spki_len },
		span_of(device_name),
	};
	proto_encode_activate_finish_req(session_body(s), &req);
	rc = session_call_body(s, PROTO_T_ACTIVATE_FINISH, m);
	OPENSSL_free(spki);
	return activation_status(s, rc);
}

int act_finish(struct bulwark_session *s, const struct bw_bytes *confirm_p,
	       EVP_PKEY *key, const char *device_name, struct act_result *r)
{
	struct proto_activate_finish_resp resp;
	struct proto_msg m;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = finish_request(s, confirm_p, key, device_name, &m)) != 0)
		return rc;
	if (proto_decode_activate_finish_resp(&m, &resp) != 0 ||
	    !proto_name_valid(resp.device_id.p, resp.device_id.n,
			      PROTO_MAX_NAME) ||
	    session_copy_text(&resp.device_id, r->device_id,
			      sizeof(r->device_id)) != 0)
		return BULWARK_ERR_PROTOCOL;
	if (bw_bytes_set(&r->cert, resp.cert.p, resp.cert.n) != 0 ||
	    bw_bytes_set(&r->ca, resp.ca_cert.p, resp.ca_cert.n) != 0) {
		act_result_clear(r);
		return BW_ERR_NOMEM;
	}
	return 0;
}

/* The certificate's key is ours. */
static bool carries_key(const struct bw_bytes *cert, EVP_PKEY *key)
{
	const unsigned char *p = cert->p;
	X509 *x = d2i_X509(NULL, &p, (long)cert->len);
	bool ok = x != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1;

	X509_free(x);
	return ok;
}

int act_check_result(const struct act_result *r, const struct bw_bytes *ca,
		     EVP_PKEY *key, const char *user)
{
	char cert_user[CA_NAME_MAX + 1], cert_id[CA_NAME_MAX + 1];
	int rc = BULWARK_ERR_CERT_INVALID;

	if (!bw_bytes_eq(&r->ca, ca->p, ca->len))
		return BULWARK_ERR_CA_MISMATCH;
	if (ca_verify_device_cert(ca->p, ca->len, r->cert.p, r->cert.len, 0,
				  cert_user, cert_id) == 0 &&
	    strcmp(cert_user, user) == 0 &&
	    strcmp(cert_id, r->device_id) == 0 && carries_key(&r->cert, key))
		rc = 0;
	ERR_clear_error();
	return rc;
}

void act_result_clear(struct act_result *r)
{
	bw_bytes_clear(&r->cert);
	bw_bytes_clear(&r->ca);
	memset(r, 0, sizeof(*r));
}
