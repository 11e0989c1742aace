/*
 * An in-process gpuvmd (local backend, own temp dir and sockets) and its
 * control requests, for end-to-end PV tests: guests are the guest library
 * in this process, talking through the local backend's socket.
 */
#ifndef TEST_UTIL_PVD_H
#define TEST_UTIL_PVD_H

#include <pthread.h>
#include <stddef.h>

#include "control_proto.h"
#include "daemon.h"
#include "host.h"
#include "vgpu.h"

struct pvd {
	char dir[64];
	char sock[128];
	char guest_sock[160];
	char pidfile[128];
	struct gpuvmd *d;
	pthread_t thread;
};

struct pvd *pvd_up(void);
void pvd_down(struct pvd *t);
/* One request: the reply (caller puts) or NULL with the daemon's message. */
struct json_object *pvd_call(struct pvd *t, const struct ctl_request *req, char *err, size_t errlen);
void pvd_create(struct pvd *t, const char *name, const char *mode);
void pvd_set_mode(struct pvd *t, const char *name, const char *mode);
/* set-mode with both full-virtualisation optimisations on or off. */
void pvd_set_opts(struct pvd *t, const char *name, const char *mode, bool on);
void pvd_info(struct pvd *t, const char *name, struct vgpu_info *info);
/* The daemon's checker on the host and every vGPU, and gpusim's audit. */
void pvd_assert_isolated(struct pvd *t);
void pvd_spec(struct pvd *t, const char *name, char *spec, size_t len);

#endif
