/* Certificate generation on first run, reuse, and load errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls_identity.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tls_identity_test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_generate_then_reuse(void **state)
{
	struct tls_identity a, b;
	char err[512], state_dir[128], fp[96];
	struct stat st;
	(void)state;

	snprintf(state_dir, sizeof(state_dir), "%s/state/sub", dir);
	assert_int_equal(tls_identity_load(&a, "", "", state_dir, "ep-cscf", err, sizeof(err)), 0);
	assert_true(a.generated);
	assert_int_equal(EVP_PKEY_get_id(a.key), EVP_PKEY_EC);
	assert_int_equal(strlen(a.fingerprint_sha256), 95); /* 32 bytes as XX: */
	assert_int_equal(stat(a.key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	strcpy(fp, a.fingerprint_sha256);
	tls_identity_free(&a);

	assert_int_equal(tls_identity_load(&b, NULL, NULL, state_dir, "ep-cscf", err, sizeof(err)), 0);
	assert_false(b.generated);
	assert_string_equal(b.fingerprint_sha256, fp);
	tls_identity_free(&b);
}

static void test_configured_errors(void **state)
{
	struct tls_identity a, other;
	char err[512], cert[128], key[128], junk[128], state_dir[128];
	(void)state;

	snprintf(cert, sizeof(cert), "%s/missing.pem", dir);
	assert_int_equal(tls_identity_load(&a, cert, "", dir, "x", err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "cannot read certificate"));
	assert_non_null(strstr(err, "No such file or directory"));

	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	write_file(junk, "not a certificate\n");
	assert_int_equal(tls_identity_load(&a, junk, "", dir, "x", err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "is not a PEM certificate"));

	/* A generated pair, then the key of another pair: mismatch. */
	snprintf(state_dir, sizeof(state_dir), "%s/s2", dir);
	assert_int_equal(tls_identity_load(&a, "", "", state_dir, "x", err, sizeof(err)), 0);
	snprintf(cert, sizeof(cert), "%s", a.cert_path);
	tls_identity_free(&a);
	assert_int_equal(tls_identity_generate(&other, "y", 10), 0);
	snprintf(key, sizeof(key), "%s/other-key.pem", dir);
	FILE *f = fopen(key, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, other.key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	tls_identity_free(&other);
	assert_int_equal(tls_identity_load(&a, cert, key, dir, "x", err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "does not match certificate"));

	/* Key given as a directory that is not a PEM key. */
	assert_int_not_equal(tls_identity_load(&a, cert, junk, dir, "x", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "is not a PEM private key"));
}

static void test_expired_is_regenerated_in_state_dir(void **state)
{
	struct tls_identity a, b;
	char err[512], state_dir[128];
	(void)state;

	snprintf(state_dir, sizeof(state_dir), "%s/s3", dir);
	assert_int_equal(tls_identity_load(&a, "", "", state_dir, "x", err, sizeof(err)), 0);
	/* Re-sign the stored certificate so that it expired yesterday. */
	X509_gmtime_adj(X509_getm_notAfter(a.cert), -86400);
	assert_true(X509_sign(a.cert, a.key, EVP_sha256()) > 0);
	FILE *f = fopen(a.cert_path, "w");
	assert_non_null(f);
	PEM_write_X509(f, a.cert);
	fclose(f);

	/* Configured explicitly: refused with a reason. */
	assert_int_equal(tls_identity_load(&b, a.cert_path, a.key_path, dir, "x", err,
					   sizeof(err)), EKEYEXPIRED);
	assert_non_null(strstr(err, "is expired or not yet valid"));
	/* Under the state directory: replaced. */
	assert_int_equal(tls_identity_load(&b, "", "", state_dir, "x", err, sizeof(err)), 0);
	assert_true(b.generated);
	assert_string_not_equal(b.fingerprint_sha256, a.fingerprint_sha256);
	tls_identity_free(&a);
	tls_identity_free(&b);
}

static void test_unwritable_state_dir(void **state)
{
	struct tls_identity a;
	char err[512], file[128], state_dir[160];
	(void)state;

	snprintf(file, sizeof(file), "%s/plainfile", dir);
	write_file(file, "x");
	snprintf(state_dir, sizeof(state_dir), "%s/below", file);
	assert_int_not_equal(tls_identity_load(&a, "", "", state_dir, "x", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot create"));
}

/* Several names: the first is the subject, each one a dNSName. */
static void test_generate_several_names(void **state)
{
	struct tls_identity a = { 0 };
	(void)state;

	assert_int_equal(tls_identity_generate(&a, "n-w0 n-w1  n-w2", 10), 0);
	char cn[64];
	X509_NAME_get_text_by_NID(X509_get_subject_name(a.cert), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "n-w0");
	const char *want[] = { "n-w0", "n-w1", "n-w2", "localhost" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(X509_check_host(a.cert, want[i], 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
						 NULL), 1);
	assert_int_not_equal(X509_check_host(a.cert, "n-w3", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
					     NULL), 1);
	tls_identity_free(&a);
	assert_int_not_equal(tls_identity_generate(&a, " lead", 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_several_names),
		cmocka_unit_test(test_generate_then_reuse),
		cmocka_unit_test(test_configured_errors),
		cmocka_unit_test(test_expired_is_regenerated_in_state_dir),
		cmocka_unit_test(test_unwritable_state_dir),
	};
	return cmocka_run_group_tests_name("tls_identity", tests, setup, teardown);
}
