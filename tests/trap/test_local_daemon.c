/*
 * The local backend inside a real gpuvmd: daemon_create() with backend
 * "local" on gpusim, its loop on a thread of this test, vGPUs made over the
 * control socket, and guests (this process or forked children) that run
 * the guest library's driver through "local:NAME@SOCKET" against the real
 * vGPU core.  Every wait is bounded.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control_proto.h"
#include "daemon.h"
#include "gpuvm_guest.h"
#include "gpuvm_transport.h"
#include "gpuvm_workloads.h"
#include "log.h"
#include "nvc0/regs.h"
#include "../common/ctl_call.h"

struct td {
	char dir[64];
	char sock[128];
	char guest_sock[128];
	char pidfile[128];
	struct gpuvmd *d;
	pthread_t thread;
	bool running;
};

static void *td_main(void *arg)
{
	struct td *t = arg;

	daemon_run(t->d);
	return NULL;
}

static struct td *td_up(void)
{
	struct td *t = calloc(1, sizeof(*t));
	struct gpuvmd_config cfg = { 0 };
	char err[256];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/gpuvm-ltd-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/gpuvmd.sock", t->dir);
	snprintf(t->guest_sock, sizeof(t->guest_sock), "%s/gpuvmd.sock.guest", t->dir);
	snprintf(t->pidfile, sizeof(t->pidfile), "%s/gpuvmd.pid", t->dir);
	cfg.gpu_spec = "sim,vram=512M";
	cfg.socket_path = t->sock;
	cfg.backend = "local";
	cfg.pidfile = t->pidfile;
	t->d = daemon_create(&cfg, err, sizeof(err));
	if (!t->d)
		fail_msg("daemon_create: %s", err);
	assert_string_equal(daemon_guest_socket_path(t->d), t->guest_sock);
	assert_int_equal(pthread_create(&t->thread, NULL, td_main, t), 0);
	t->running = true;
	return t;
}

static void td_stop(struct td *t)
{
	if (!t->running)
		return;
	daemon_request_stop(t->d);
	pthread_join(t->thread, NULL);
	t->running = false;
}

static void td_down(struct td *t)
{
	td_stop(t);
	daemon_destroy(t->d);
	assert_int_equal(access(t->guest_sock, F_OK), -1);      /* removed at shutdown */
	unlink(t->pidfile);
	rmdir(t->dir);
	free(t);
}

/* One control request; returns the reply (caller puts), NULL + err if refused. */
static struct json_object *ctl(struct td *t, const struct ctl_request *req, char *err, size_t errlen)
{
	return test_ctl_call(t->sock, req, err, errlen);
}

static void vgpu_new(struct td *t, const char *name)
{
	struct ctl_request req;
	struct json_object *r;
	char err[256];

	ctl_request_init(&req, CTL_OP_CREATE);
	snprintf(req.name, sizeof(req.name), "%s", name);
	req.has_vram = true;
	req.vram = 128ull << 20;
	r = ctl(t, &req, err, sizeof(err));
	if (!r)
		fail_msg("create %s: %s", name, err);
	json_object_put(r);
}

static void vgpu_op(struct td *t, enum ctl_op op, const char *name)
{
	struct ctl_request req;
	struct json_object *r;
	char err[256];

	ctl_request_init(&req, op);
	snprintf(req.name, sizeof(req.name), "%s", name);
	r = ctl(t, &req, err, sizeof(err));
	if (!r)
		fail_msg("%s %s: %s", ctl_op_name(op), name, err);
	json_object_put(r);
}

static bool vgpu_attached(struct td *t, const char *name)
{
	struct ctl_request req;
	struct json_object *r, *v;
	char err[256];
	bool a;

	ctl_request_init(&req, CTL_OP_INFO);
	snprintf(req.name, sizeof(req.name), "%s", name);
	r = ctl(t, &req, err, sizeof(err));
	if (!r)
		fail_msg("info %s: %s", name, err);
	assert_true(json_object_object_get_ex(r, "vgpu", &v));
	a = ctl_json_bool(v, "attached");
	json_object_put(r);
	return a;
}

/* Bounded wait for the attached flag to become want. */
static bool wait_attached(struct td *t, const char *name, bool want)
{
	for (int i = 0; i < 2000; i++) {
		struct timespec ts = { 0, 5000000 };

		if (vgpu_attached(t, name) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void spec_of(struct td *t, const char *name, char *spec, size_t len)
{
	snprintf(spec, len, "local:%s@%s", name, t->guest_sock);
}

static int run_workload(const char *spec, const char *name, uint64_t size, unsigned ms)
{
	struct gpuvm_workload_params p = { .size = size, .ms = ms };
	struct gpuvm_workload_result r = { 0 };
	struct gpuvm_ctx *ctx = NULL;
	int err = gpuvm_ctx_open(spec, NULL, &ctx);

	if (err)
		return err;
	err = gpuvm_workload_find(name)->run(ctx, &p, &r);
	gpuvm_ctx_destroy(ctx);
	return err;
}

/* The guest library's driver runs real work on a real vGPU through the backend. */
static void test_workloads_through_gpuvmd(void **state)
{
	struct td *t = td_up();
	char spec[200];
	int err;

	(void)state;
	vgpu_new(t, "vm0");
	spec_of(t, "vm0", spec, sizeof(spec));
	err = run_workload(spec, "vadd", 4096, 0);
	if (err)
		fail_msg("vadd: %s", gpuvm_last_error());
	err = run_workload(spec, "mmul", 64, 0);
	if (err)
		fail_msg("mmul: %s", gpuvm_last_error());
	err = run_workload(spec, "memcpy", 1 << 20, 0);
	if (err)
		fail_msg("memcpy: %s", gpuvm_last_error());
	assert_true(wait_attached(t, "vm0", false));
	td_down(t);
}

static void test_busy_and_unknown(void **state)
{
	struct td *t = td_up();
	struct gpuvm_transport *a = NULL, *b = NULL;
	char spec[200];

	(void)state;
	vgpu_new(t, "vm0");
	spec_of(t, "nope", spec, sizeof(spec));
	assert_int_equal(gpuvm_transport_open(spec, &a), GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "no vGPU named nope"));
	spec_of(t, "vm0", spec, sizeof(spec));
	assert_int_equal(gpuvm_transport_open(spec, &a), GPUVM_OK);
	assert_int_equal(gpuvm_tp_rd32(a, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	assert_true(vgpu_attached(t, "vm0"));
	/* A second guest process is refused while the first is attached. */
	{
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			/* The child shares nothing with the parent's attachment but the
			 * inherited fd; a fresh connection is a second guest. */
			int e = gpuvm_transport_open(spec, &b);

			_exit(e == GPUVM_ERR_BUSY && strstr(gpuvm_last_error(), "already has a guest")
			      ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	gpuvm_transport_close(a);
	assert_true(wait_attached(t, "vm0", false));
	td_down(t);
}

/* A child guest that attaches, says so on fd, then reads registers forever. */
static pid_t spawn_spinner(struct td *t, const char *name, int *ready_fd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gpuvm_transport *tp = NULL;
		char spec[200];

		close(p[0]);
		spec_of(t, name, spec, sizeof(spec));
		if (gpuvm_transport_open(spec, &tp))
			_exit(2);
		if (write(p[1], "a", 1) != 1)
			_exit(2);
		for (;;)
			if (gpuvm_tp_rd32(tp, NV_PMC_BOOT0) != NV_PMC_BOOT0_GF100)
				_exit(tp->ops->check(tp) == -EPIPE ? 3 : 4);
	}
	close(p[1]);
	*ready_fd = p[0];
	return pid;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

static int wait_child(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i < ms; i++) {
		struct timespec ts = { 0, 1000000 };

		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void test_guest_killed(void **state)
{
	struct td *t = td_up();
	char spec[200];
	int ready, status;
	pid_t pid;

	(void)state;
	vgpu_new(t, "vm0");
	vgpu_new(t, "vm1");
	pid = spawn_spinner(t, "vm0", &ready);
	assert_true(wait_readable(ready, 10000));
	close(ready);
	assert_true(vgpu_attached(t, "vm0"));
	assert_int_equal(kill(pid, SIGKILL), 0);
	status = wait_child(pid, 10000);
	assert_true(WIFSIGNALED(status));
	/* The daemon noticed, detached and reset vm0; it takes a new guest. */
	assert_true(wait_attached(t, "vm0", false));
	spec_of(t, "vm0", spec, sizeof(spec));
	if (run_workload(spec, "vadd", 1024, 0))
		fail_msg("vadd after kill: %s", gpuvm_last_error());
	spec_of(t, "vm1", spec, sizeof(spec));
	if (run_workload(spec, "vadd", 1024, 0))
		fail_msg("vadd on vm1: %s", gpuvm_last_error());
	td_down(t);
}

static void test_destroy_and_reset_under_guest(void **state)
{
	struct td *t = td_up();
	int ready, status;
	pid_t pid;

	(void)state;
	vgpu_new(t, "vm0");
	pid = spawn_spinner(t, "vm0", &ready);
	assert_true(wait_readable(ready, 10000));
	close(ready);
	vgpu_op(t, CTL_OP_RESET, "vm0");        /* the guest is dropped, the vGPU stays */
	status = wait_child(pid, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);       /* saw all ones and -EPIPE */
	assert_false(vgpu_attached(t, "vm0"));

	pid = spawn_spinner(t, "vm0", &ready);
	assert_true(wait_readable(ready, 10000));
	close(ready);
	vgpu_op(t, CTL_OP_DESTROY, "vm0");
	status = wait_child(pid, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	td_down(t);
}

static void test_shutdown_under_guest(void **state)
{
	struct td *t = td_up();
	struct gpuvm_transport *tp = NULL;
	char spec[200];

	(void)state;
	vgpu_new(t, "vm0");
	spec_of(t, "vm0", spec, sizeof(spec));
	assert_int_equal(gpuvm_transport_open(spec, &tp), GPUVM_OK);
	assert_int_equal(gpuvm_tp_rd32(tp, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	td_stop(t);
	assert_int_equal(tp->ops->check(tp), -EPIPE);
	assert_int_equal(gpuvm_tp_rd32(tp, NV_PMC_BOOT0), 0xffffffffu);
	gpuvm_transport_close(tp);
	td_down(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workloads_through_gpuvmd),
		cmocka_unit_test(test_busy_and_unknown),
		cmocka_unit_test(test_guest_killed),
		cmocka_unit_test(test_destroy_and_reset_under_guest),
		cmocka_unit_test(test_shutdown_under_guest),
	};

	signal(SIGPIPE, SIG_IGN);
	gpuvm_log_set_level(GPUVM_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
