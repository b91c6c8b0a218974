// SPDX-License-Identifier: GPL-2.0
/*
 * One replay cache, many threads: each request accepted exactly once,
 * whichever thread sees it first. Built with ThreadSanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "mc3.h"

#define NOW		1795400000
#define THREADS		4
#define REQUESTS	2000

static const char keys[] =
	"a sha256 hex cr hex:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\n"
	"b sha256 base64 v2 hex:0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c\n";

static char *signed_text[REQUESTS];
static atomic_int accepted[REQUESTS];
static struct mc3_keystore *ks;
static struct mc3_replay *replay;

/* Every request, each twice, from a start of its own: races on purpose. */
static void *verifier(void *arg)
{
	long t = (long)arg, i, bad = 0;
	struct mc3_ctx *ctx = mc3_ctx_new_shared(ks, replay);
	char err[256];

	if (!ctx)
		return (void *)1L;
	for (i = 0; i < 2 * REQUESTS; i++) {
		long n = (i + t * REQUESTS / THREADS) % REQUESTS;
		struct mc3_request *req;
		enum mc3_verdict v;

		if (mc3_request_parse(signed_text[n], strlen(signed_text[n]), MC3_FORM, 0,
				      &req, err, sizeof(err)))
			return (void *)1L;
		v = mc3_verify(ctx, req, NOW, err, sizeof(err));
		mc3_request_free(req);
		if (v == MC3_OK)
			atomic_fetch_add(&accepted[n], 1);
		else if (v != MC3_EREPLAY)
			bad++;
	}
	mc3_ctx_free(ctx);
	return (void *)bad;
}

TEST(each_request_is_accepted_once_across_threads)
{
	struct mc3_ctx *signer;
	pthread_t th[THREADS];
	char err[256];
	long i, bad = 0;
	void *ret;

	ASSERT_EQ(0, mc3_keystore_parse(keys, strlen(keys), &ks, err, sizeof(err)));
	replay = mc3_replay_new(300, REQUESTS);
	ASSERT_NE(NULL, replay);
	signer = mc3_ctx_new(ks, 0, 0);
	ASSERT_NE(NULL, signer);
	for (i = 0; i < REQUESTS; i++) {
		char form[64];
		struct mc3_request *req;

		snprintf(form, sizeof(form), "tid=%ld&ici=x&user=u", i);
		ASSERT_EQ(0, mc3_request_parse(form, strlen(form), MC3_FORM, 0, &req, err,
					       sizeof(err)));
		ASSERT_EQ(0, mc3_sign(signer, req, i % 2 ? "a" : "b", NOW, err, sizeof(err)));
		signed_text[i] = mc3_request_write(req, MC3_FORM);
		ASSERT_NE(NULL, signed_text[i]);
		mc3_request_free(req);
	}
	mc3_ctx_free(signer);

	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, verifier, (void *)i));
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		bad += (long)ret;
	}
	EXPECT_EQ(0, bad);
	for (i = 0; i < REQUESTS; i++) {
		EXPECT_EQ(1, atomic_load(&accepted[i])) TH_LOG("request %ld", i);
		free(signed_text[i]);
	}
	mc3_replay_free(replay);
	mc3_keystore_free(ks);
}

TEST_HARNESS_MAIN
