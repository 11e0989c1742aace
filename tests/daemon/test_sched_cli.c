/*
 * gpuvmd's scheduling options: --sched POLICY, --sched-period-ms,
 * --sched-tick-ms and --sched-tslice-ms are parsed into the daemon's
 * configuration, and bad values exit 2 before anything starts.
 * gpuvmd's main() is compiled in under another name (as in
 * test_gpuvmd_cli.c); option parsing starts nothing, so it runs in-process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main gpuvmd_main
#include "cmd/gpuvmd.c"
#undef main

#include "util_daemon.h"

struct cli_run {
	int argc;
	char *argv[20];
};

static int run_gpuvmd(void *arg)
{
	struct cli_run *r = arg;

	return gpuvmd_main(r->argc, r->argv);
}

static void cli_init(struct cli_run *r, const char *const *args)
{
	r->argc = 0;
	r->argv[r->argc++] = (char *)"gpuvmd";
	for (; *args && r->argc < 19; args++)
		r->argv[r->argc++] = (char *)*args;
	r->argv[r->argc] = NULL;
}

static void assert_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' not in:\n%s", want, text);
}

static void test_help_mentions_sched(void **state)
{
	struct cli_run r;
	char *out, *err;

	(void)state;
	cli_init(&r, (const char *const[]){ "--help", NULL });
	assert_int_equal(t_capture(run_gpuvmd, &r, &out, &err), 0);
	assert_contains(out, "--sched POLICY");
	assert_contains(out, "--sched-period-ms N");
	assert_contains(out, "--sched-tick-ms N");
	assert_contains(out, "--sched-tslice-ms N");
	free(out);
	free(err);
}

static void test_options_parsed(void **state)
{
	struct cli_run r;
	struct options o;

	(void)state;
	cli_init(&r, (const char *const[]){ "--sched", "BAND", "--sched-period-ms", "60",
					    "--sched-tick-ms", "15", "--sched-tslice-ms", "4",
					    "--socket", "/tmp/x.sock", NULL });
	assert_int_equal(parse_options(r.argc, r.argv, &o), 0);
	assert_string_equal(o.cfg.sched, "BAND");
	assert_int_equal(o.cfg.sched_params.period_ns, 60000000);
	assert_int_equal(o.cfg.sched_params.tick_ns, 15000000);
	assert_int_equal(o.cfg.sched_params.tslice_ns, 4000000);

	cli_init(&r, (const char *const[]){ "--socket", "/tmp/x.sock", NULL });
	assert_int_equal(parse_options(r.argc, r.argv, &o), 0);
	assert_null(o.cfg.sched);
	assert_int_equal(o.cfg.sched_params.period_ns, 0);
	assert_int_equal(o.cfg.sched_params.tslice_ns, 0);
}

static void test_bad_options_exit_2(void **state)
{
	static const struct {
		const char *args[6];
		const char *want;
	} cases[] = {
		{ { "--sched", "lottery", NULL }, "unknown scheduling policy 'lottery'" },
		{ { "--sched", NULL }, "needs a value" },
		{ { "--sched-period-ms", "0", NULL }, "--sched-period-ms must be 1..10000 (got 0)" },
		{ { "--sched-period-ms", "30ms", NULL }, "invalid number of milliseconds '30ms'" },
		{ { "--sched-tick-ms", "2000", NULL }, "--sched-tick-ms must be 1..1000" },
		{ { "--sched-tslice-ms", "-1", NULL }, "--sched-tslice-ms must be 1..1000" },
		/* The default period is 30 ms. */
		{ { "--sched-tick-ms", "40", NULL }, "must not exceed --sched-period-ms (40 ms > 30 ms)" },
		{ { "--sched-period-ms", "5", NULL }, "must not exceed --sched-period-ms (10 ms > 5 ms)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_run r;
		char *out, *err;
		int rc;

		cli_init(&r, cases[i].args);
		rc = t_capture(run_gpuvmd, &r, &out, &err);
		if (rc != 2)
			fail_msg("case %zu: exit %d, stderr %s", i, rc, err);
		assert_contains(err, cases[i].want);
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_mentions_sched),
		cmocka_unit_test(test_options_parsed),
		cmocka_unit_test(test_bad_options_exit_2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
