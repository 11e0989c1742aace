/*
 * gpuvmctl against an in-process gpuvmd: every command, its output, and
 * its exit status (0 ok, 1 daemon error, 2 usage).  gpuvmctl's main() is
 * compiled into this test under another name so that it runs in-process,
 * sanitizers included, without depending on build/bin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main gpuvmctl_main
#include "cmd/gpuvmctl.c"
#undef main

#include "util_daemon.h"

struct ctl_run {
	int argc;
	char *argv[16];
};

static int run_main(void *arg)
{
	struct ctl_run *r = arg;

	return gpuvmctl_main(r->argc, r->argv);
}

/*
 * Run gpuvmctl with args (NULL-terminated, after "gpuvmctl"); "--socket
 * SOCK" goes first when sock is not NULL.  Returns the exit status, with
 * the output in *out and *err (free them; pass NULL to ignore).
 */
static int ctl_args(const char *sock, char **out, char **err, const char *const *args)
{
	struct ctl_run r = { 0 };
	char *o, *e;
	int rc;

	r.argv[r.argc++] = (char *)"gpuvmctl";
	if (sock) {
		r.argv[r.argc++] = (char *)"--socket";
		r.argv[r.argc++] = (char *)sock;
	}
	for (; *args && r.argc < 15; args++)
		r.argv[r.argc++] = (char *)*args;
	rc = t_capture(run_main, &r, &o, &e);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}

/* ctl_args() with the arguments listed, NULL last. */
static int ctl(const char *sock, char **out, char **err, ...)
{
	const char *args[16];
	size_t n = 0;
	va_list ap;

	va_start(ap, err);
	while (n < 15 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	return ctl_args(sock, out, err, args);
}

static int setup(void **state)
{
	*state = td_start(NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	td_free(*state);
	return 0;
}

static void assert_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' not in:\n%s", want, text);
}

static void test_help(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(ctl(NULL, &out, NULL, "--help", NULL), 0);
	assert_contains(out, "Usage: gpuvmctl");
	assert_contains(out, "check [NAME]");
	free(out);
	assert_int_equal(ctl(NULL, &out, NULL, "create", "--help", NULL), 0);
	assert_contains(out, "--channels N");
	free(out);
	assert_int_equal(ctl(NULL, &out, NULL, "list", "-h", NULL), 0);
	assert_contains(out, "gpuvmctl [--socket PATH] [--json] list");
	free(out);
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *args[6];
		const char *want;
	} cases[] = {
		{ { NULL }, "no command given" },
		{ { "frob", NULL }, "unknown command 'frob'" },
		{ { "--bogus", "list", NULL }, "unknown option '--bogus'" },
		{ { "--socket", NULL }, "needs a value" },
		{ { "create", NULL }, "create needs a vGPU name" },
		{ { "create", "a b", NULL }, "invalid character ' '" },
		{ { "create", "x", "--vram", "17M", NULL }, "17 MiB is not a multiple of 16 MiB" },
		{ { "create", "x", "--vram", "lots", NULL }, "invalid size 'lots'" },
		{ { "create", "x", "--channels", "0", NULL }, "channels must be 1..64" },
		{ { "create", "x", "--channels", "8x", NULL }, "invalid channel count '8x'" },
		{ { "create", "x", "--mode", NULL }, "needs a value" },
		{ { "create", "x", "--colour", "red", NULL }, "unknown option '--colour'" },
		{ { "info", "a", "b", NULL }, "unexpected argument 'b'" },
		{ { "-jq", "list", NULL }, "unknown option '-q'" },
		{ { "create", "-xv", "16M", "x", NULL }, "unknown option '-x'" },
		{ { "list", "extra", NULL }, "unexpected argument 'extra'" },
		{ { "destroy", NULL }, "destroy needs a vGPU name" },
	};
	struct tdaemon *t = *state;
	char *before = td_state(t), *after;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err;
		int rc = ctl_args(t->sock, NULL, &err, cases[i].args);

		if (rc != 2)
			fail_msg("case %zu: exit %d, stderr %s", i, rc, err);
		assert_contains(err, cases[i].want);
		free(err);
	}
	after = td_state(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_create_list_info_destroy(void **state)
{
	struct tdaemon *t = *state;
	char *out, *err;

	assert_int_equal(ctl(t->sock, &out, NULL, "create", "vm1", "--vram", "64M",
			     "--channels", "4", NULL), 0);
	assert_contains(out, "created vGPU 'vm1'");
	assert_contains(out, "64 MiB VRAM, 4 channels");
	free(out);
	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "-v", "32M", "vm2", NULL), 0);

	assert_int_equal(ctl(t->sock, &out, NULL, "list", NULL), 0);
	assert_contains(out, "Name");
	assert_contains(out, "VRAM(MiB)");
	assert_contains(out, "Attached");
	assert_contains(out, "Traps");
	assert_contains(out, "\nvm1 ");
	assert_contains(out, "\nvm2 ");
	assert_contains(out, "Host VRAM: 352 MiB free of 512 MiB");
	free(out);

	assert_int_equal(ctl(t->sock, &out, NULL, "info", "vm1", NULL), 0);
	assert_contains(out, "name:           vm1\n");
	assert_contains(out, "mode:           full\n");
	assert_contains(out, "vram_size:      67108864\n");
	assert_contains(out, "channels:       4\n");
	assert_contains(out, "attached:       no\n");
	assert_contains(out, "vram_base:      0x");
	free(out);

	assert_int_equal(ctl(t->sock, &out, NULL, "check", NULL), 0);
	assert_contains(out, "host: isolated\n");
	assert_contains(out, "vm1: isolated\n");
	assert_contains(out, "vm2: isolated\n");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "check", "vm2", NULL), 0);
	assert_string_equal(out, "vm2: isolated\n");
	free(out);

	assert_int_equal(ctl(t->sock, &out, NULL, "reset", "vm1", NULL), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(ctl(t->sock, &out, NULL, "destroy", "vm1", NULL), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(ctl(t->sock, NULL, &err, "destroy", "vm1", NULL), 1);
	assert_string_equal(err, "gpuvmctl: no vGPU named 'vm1'\n");
	free(err);
}

static void test_daemon_errors_exit_1(void **state)
{
	struct tdaemon *t = *state;
	char *err;

	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "dup", "--vram", "16M", NULL), 0);
	assert_int_equal(ctl(t->sock, NULL, &err, "create", "dup", "--vram", "16M", NULL), 1);
	assert_contains(err, "already exists");
	free(err);
	assert_int_equal(ctl(t->sock, NULL, &err, "create", "huge", "--vram", "1G", NULL), 1);
	assert_contains(err, "not enough free VRAM");
	free(err);
	/* The pv modes exist (tests/pv); an unknown mode is refused. */
	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "p", "--mode", "pv", "--vram", "16M",
			     NULL), 0);
	assert_int_equal(ctl(t->sock, NULL, &err, "create", "p", "--mode", "warp", "--vram", "16M",
			     NULL), 1);
	assert_contains(err, "unknown mode 'warp'");
	free(err);
	assert_int_equal(ctl(t->sock, NULL, &err, "info", "ghost", NULL), 1);
	assert_contains(err, "no vGPU named 'ghost'");
	free(err);
}

static void test_json_output(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *o;
	char *out, *err;

	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "j", "--vram", "16M", NULL), 0);
	assert_int_equal(ctl(t->sock, &out, NULL, "--json", "info", "j", NULL), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(ctl_json_bool(o, "ok"));
	json_object_put(o);
	free(out);
	assert_int_equal(ctl(t->sock, &out, &err, "-j", "info", "nobody", NULL), 1);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_false(ctl_json_bool(o, "ok"));
	assert_contains(ctl_json_str(o, "error"), "no vGPU named 'nobody'");
	json_object_put(o);
	assert_contains(err, "no vGPU named 'nobody'");
	free(out);
	free(err);
}

static void test_socket_from_environment(void **state)
{
	struct tdaemon *t = *state;
	char *out;

	setenv("GPUVMD_SOCKET", t->sock, 1);
	assert_int_equal(ctl(NULL, &out, NULL, "version", NULL), 0);
	assert_contains(out, "protocol 1");
	free(out);
	unsetenv("GPUVMD_SOCKET");
}

static void test_no_daemon(void **state)
{
	char *err;

	(void)state;
	assert_int_equal(ctl("/nonexistent/gpuvmd.sock", NULL, &err, "list", NULL), 1);
	assert_contains(err, "is gpuvmd running?");
	free(err);
}

static void test_shutdown_command(void **state)
{
	struct tdaemon *t = *state;

	assert_int_equal(ctl(t->sock, NULL, NULL, "create", "s", "--vram", "16M", NULL), 0);
	assert_int_equal(ctl(t->sock, NULL, NULL, "shutdown", NULL), 0);
	pthread_join(t->thread, NULL);
	t->running = false;
	assert_int_equal(daemon_vgpu_count(t->d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_list_info_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_errors_exit_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_from_environment, setup, teardown),
		cmocka_unit_test(test_no_daemon),
		cmocka_unit_test_setup_teardown(test_shutdown_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
