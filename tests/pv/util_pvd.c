/* An in-process gpuvmd with the local backend, for end-to-end PV tests (util_pvd.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gpusim.h"
#include "log.h"
#include "util_pvd.h"
#include "../common/ctl_call.h"

static void *pvd_main(void *arg)
{
	struct pvd *t = arg;

	daemon_run(t->d);
	return NULL;
}

struct pvd *pvd_up(void)
{
	struct pvd *t = calloc(1, sizeof(*t));
	struct gpuvmd_config cfg = { 0 };
	char err[256];

	assert_non_null(t);
	gpuvm_log_set_level(GPUVM_LOG_ERR);
	snprintf(t->dir, sizeof(t->dir), "/tmp/gpuvm-pv-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/gpuvmd.sock", t->dir);
	snprintf(t->guest_sock, sizeof(t->guest_sock), "%s.guest", t->sock);
	snprintf(t->pidfile, sizeof(t->pidfile), "%s/gpuvmd.pid", t->dir);
	cfg.gpu_spec = "sim,vram=1G";
	cfg.socket_path = t->sock;
	cfg.backend = "local";
	cfg.pidfile = t->pidfile;
	t->d = daemon_create(&cfg, err, sizeof(err));
	if (!t->d)
		fail_msg("daemon_create: %s", err);
	/* gpusim's oracle checks every engine access of every channel. */
	gpusim_audit_mode(gpusim_from_hw(host_hw(daemon_host(t->d))), GPUSIM_AUDIT_COUNT);
	assert_int_equal(pthread_create(&t->thread, NULL, pvd_main, t), 0);
	return t;
}

void pvd_down(struct pvd *t)
{
	daemon_request_stop(t->d);
	pthread_join(t->thread, NULL);
	daemon_destroy(t->d);
	unlink(t->pidfile);
	rmdir(t->dir);
	free(t);
}

struct json_object *pvd_call(struct pvd *t, const struct ctl_request *req, char *err, size_t errlen)
{
	return test_ctl_call(t->sock, req, err, errlen);
}

static void call_ok(struct pvd *t, struct ctl_request *req)
{
	char err[256];
	struct json_object *r = pvd_call(t, req, err, sizeof(err));

	if (!r)
		fail_msg("%s %s: %s", ctl_op_name(req->op), req->name, err);
	json_object_put(r);
}

void pvd_create(struct pvd *t, const char *name, const char *mode)
{
	struct ctl_request req;

	ctl_request_init(&req, CTL_OP_CREATE);
	snprintf(req.name, sizeof(req.name), "%s", name);
	snprintf(req.mode, sizeof(req.mode), "%s", mode);
	req.has_mode = true;
	req.has_vram = true;
	req.vram = 128ull << 20;
	call_ok(t, &req);
}

void pvd_set_mode(struct pvd *t, const char *name, const char *mode)
{
	struct ctl_request req;

	ctl_request_init(&req, CTL_OP_SET_MODE);
	snprintf(req.name, sizeof(req.name), "%s", name);
	snprintf(req.mode, sizeof(req.mode), "%s", mode);
	req.has_mode = true;
	call_ok(t, &req);
}

void pvd_set_opts(struct pvd *t, const char *name, const char *mode, bool on)
{
	struct ctl_request req;

	ctl_request_init(&req, CTL_OP_SET_MODE);
	snprintf(req.name, sizeof(req.name), "%s", name);
	snprintf(req.mode, sizeof(req.mode), "%s", mode);
	req.has_mode = req.has_opt_lazy = req.has_opt_remap = true;
	req.opt_lazy = req.opt_remap = on;
	call_ok(t, &req);
}

void pvd_info(struct pvd *t, const char *name, struct vgpu_info *info)
{
	struct ctl_request req;
	struct json_object *r, *v;
	char err[256], mode[32];

	ctl_request_init(&req, CTL_OP_INFO);
	snprintf(req.name, sizeof(req.name), "%s", name);
	r = pvd_call(t, &req, err, sizeof(err));
	if (!r)
		fail_msg("info %s: %s", name, err);
	assert_true(json_object_object_get_ex(r, "vgpu", &v));
	if (ctl_info_from_json(v, info, mode, sizeof(mode), err, sizeof(err)))
		fail_msg("info %s: %s", name, err);
	json_object_put(r);
}

void pvd_assert_isolated(struct pvd *t)
{
	struct ctl_request req;
	struct json_object *r;
	char err[256];

	ctl_request_init(&req, CTL_OP_CHECK);
	r = pvd_call(t, &req, err, sizeof(err));
	if (!r)
		fail_msg("check: %s", err);
	if (!ctl_json_bool(r, "isolated"))
		fail_msg("isolation: %s", json_object_to_json_string(r));
	json_object_put(r);
	assert_int_equal(gpusim_audit_total(gpusim_from_hw(host_hw(daemon_host(t->d)))), 0);
}

void pvd_spec(struct pvd *t, const char *name, char *spec, size_t len)
{
	snprintf(spec, len, "local:%s@%s", name, t->guest_sock);
}
