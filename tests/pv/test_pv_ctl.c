/*
 * gpuvmctl create --mode, set-mode and info against an in-process gpuvmd:
 * modes are accepted, a switch waits while a guest holds a channel and
 * applies when it lets go, the optimisation switches show in info, and bad
 * usage exits 2 and an unknown mode or vGPU 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "gpuvm_guest.h"
#include "util_pvd.h"

/* Run gpuvmctl with args; its exit status, stdout in out (>= 4 KiB). */
static int gpuvmctl(struct pvd *t, const char *args, char *out, size_t len)
{
	const char *bin = getenv("GPUVM_BIN");
	char cmd[1024];
	FILE *p;
	size_t n;
	int st;

	if (!bin)
		bin = "build/bin";
	snprintf(cmd, sizeof(cmd), "%s/gpuvmctl --socket %s %s 2>&1", bin, t->sock, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_create_and_set_mode(void **state)
{
	struct pvd *t = pvd_up();
	char out[8192], spec[256];
	struct gpuvm_ctx *ctx;

	(void)state;
	assert_int_equal(gpuvmctl(t, "create a --mode pv-naive --vram 64M", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "pv-naive"));
	assert_int_equal(gpuvmctl(t, "set-mode a pv", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "mode pv"));
	/* A guest holds a channel: the switch waits. */
	pvd_spec(t, "a", spec, sizeof(spec));
	assert_int_equal(gpuvm_ctx_open(spec, NULL, &ctx), GPUVM_OK);
	assert_int_equal(gpuvmctl(t, "set-mode a full --no-lazy --no-remap", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "mode pv, full at its next quiescent point"));
	assert_int_equal(gpuvmctl(t, "info a", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "pending_mode:"));
	assert_non_null(strstr(out, "opt_lazy:"));
	assert_non_null(strstr(out, "no"));
	gpuvm_ctx_destroy(ctx);
	assert_int_equal(gpuvmctl(t, "info a", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "mode:           full"));
	/* Usage errors: exit 2. */
	assert_int_equal(gpuvmctl(t, "set-mode a", out, sizeof(out)), 2);
	assert_int_equal(gpuvmctl(t, "set-mode a warp", out, sizeof(out)), 1);     /* the daemon's word */
	assert_non_null(strstr(out, "unknown mode 'warp'"));
	assert_int_equal(gpuvmctl(t, "set-mode ghost pv", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no vGPU named 'ghost'"));
	pvd_down(t);
}

/* create takes the full-virtualisation switches too, each on its own. */
static void test_create_optimisation_switches(void **state)
{
	struct pvd *t = pvd_up();
	char out[8192];
	struct vgpu_info info;

	(void)state;
	assert_int_equal(gpuvmctl(t, "create plain --vram 64M", out, sizeof(out)), 0);
	pvd_info(t, "plain", &info);
	assert_true(info.opt_lazy);
	assert_true(info.opt_remap);
	assert_int_equal(gpuvmctl(t, "create slow --vram 64M --no-lazy --no-remap", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "created vGPU 'slow'"));
	pvd_info(t, "slow", &info);
	assert_int_equal(info.mode, VGPU_MODE_FULL);
	assert_false(info.opt_lazy);
	assert_false(info.opt_remap);
	assert_int_equal(gpuvmctl(t, "create nolazy --vram 64M --mode pv --no-lazy", out, sizeof(out)), 0);
	pvd_info(t, "nolazy", &info);
	assert_int_equal(info.mode, VGPU_MODE_PV);
	assert_false(info.opt_lazy);
	assert_true(info.opt_remap);
	/* A failed create sets nothing. */
	assert_int_equal(gpuvmctl(t, "create slow --vram 64M --no-remap", out, sizeof(out)), 1);
	assert_int_equal(gpuvmctl(t, "create x --no-such-switch", out, sizeof(out)), 2);
	pvd_down(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_set_mode),
		cmocka_unit_test(test_create_optimisation_switches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
