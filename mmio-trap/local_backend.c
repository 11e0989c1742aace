/*
 * gpuvmd's "local" trap backend: the listener (local_listener.c) wired to
 * the daemon's poll loop and registry and to the vGPU core.  Guests are
 * processes on this machine; see docs/local-backend.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include "daemon.h"
#include "local_listener.h"
#include "log.h"
#include "vgpu.h"

/* One daemon per process: the backend's state. */
static struct {
	struct gpuvmd *d;
	struct local_listener *l;
} local_backend;

static void *lb_find(void *host, const char *name)
{
	return daemon_find_vgpu(host, name);
}

static int lb_attach(void *host, void *vgpu, void (*hook)(void *arg), void *arg)
{
	(void)host;
	return vgpu_attach(vgpu, hook, arg);
}

static void lb_detach(void *host, void *vgpu)
{
	(void)host;
	vgpu_detach(vgpu);
}

static int lb_export(void *host, void *vgpu, struct vgpu_export *out)
{
	(void)host;
	return vgpu_export(vgpu, out);
}

static void lb_mmio(void *vgpu, struct vgpu_io *io)
{
	vgpu_mmio(vgpu, io);
}

static void lb_fd_cb(struct gpuvmd *d, int fd, short revents, void *arg)
{
	(void)d;
	local_listener_fd_ready(arg, fd, revents);
}

static int lb_watch(void *host, int fd, struct local_listener *l)
{
	return daemon_watch_fd(host, fd, POLLIN, lb_fd_cb, l) < 0 ? -ENOMEM : 0;
}

static void lb_unwatch(void *host, int fd)
{
	daemon_unwatch_fd(host, fd);
}

static void lb_log(void *host, int level, const char *msg)
{
	(void)host;
	gpuvm_log(level, "%s", msg);
}

static const struct local_host_ops lb_ops = {
	.find = lb_find,
	.attach = lb_attach,
	.detach = lb_detach,
	.export_bars = lb_export,
	.mmio = lb_mmio,
	.watch = lb_watch,
	.unwatch = lb_unwatch,
	.log = lb_log,
};

static int lb_start(struct gpuvmd *d, const char *socket_path, char *err, size_t errlen)
{
	struct local_listener_config cfg = { .path = socket_path };
	int ret;

	if (local_backend.l) {
		snprintf(err, errlen, "the local backend is already running");
		return -1;
	}
	ret = local_listener_start(&lb_ops, d, &cfg, &local_backend.l, err, errlen);
	if (ret)
		return -1;
	local_backend.d = d;
	gpuvm_log(GPUVM_LOG_INFO, "local backend: guests attach on %s", socket_path);
	return 0;
}

static void lb_stop(struct gpuvmd *d)
{
	if (local_backend.d != d)
		return;
	local_listener_stop(local_backend.l);
	local_backend.l = NULL;
	local_backend.d = NULL;
}

const struct trap_backend_ops local_backend_ops = {
	.name = "local",
	.start = lb_start,
	.stop = lb_stop,
};
