/*
 * gpuvmd's "xen" trap backend: each attached domain gets a vGPU of its own
 * and an ioreq server (xen_ioreq_server.c) that shows it to the guest as a
 * PCI function (xen_vpci.c).  Attach and detach come from the control
 * socket (gpuvmctl attach/detach); @releaseDomain frees the vGPU of a domain
 * that died; servers left by an earlier gpuvmd are destroyed at start-up.
 * Everything here runs on the control thread; each server has its own
 * thread for the guest's accesses.  See docs/xen-backend.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "daemon.h"
#include "gpuvm_pv.h"
#include "log.h"
#include "vgpu.h"
#include "xen_domain.h"
#include "xen_ioreq_server.h"
#include "xen_vpci.h"

#define XEN_DEFAULT_BDF "00:03.0"

struct xen_attachment {
	struct xen_attachment *next;
	unsigned domid;
	char domain[XEN_DOMAIN_NAME_MAX];
	char vgpu_name[VGPU_NAME_MAX];
	struct vgpu *v;
	struct xen_ioreq_server *srv;
};

/* One daemon per process: the backend's state. */
static struct {
	struct gpuvmd *d;
	struct xen_domains *xd;
	int xs_fd;
	struct xen_attachment *list;
} xb = { .xs_fd = -1 };

static void xb_mmio(void *arg, struct vgpu_io *io)
{
	vgpu_mmio(arg, io);
}

static void unlink_att(struct xen_attachment *a)
{
	for (struct xen_attachment **p = &xb.list; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			return;
		}
}

/* What the domain's server did, for the log when it stops. */
static void log_server_stats(const struct xen_attachment *a)
{
	struct xen_ioreq_server_stats st;

	if (!a->srv)
		return;
	xen_ioreq_server_stats(a->srv, &st);
	gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u: served %llu requests (%llu denied, %llu buffered) "
		  "in %llu wake-ups, %.1f us each", a->domid, (unsigned long long)st.handled,
		  (unsigned long long)st.denied, (unsigned long long)st.buffered,
		  (unsigned long long)st.wakeups,
		  st.handled ? (double)st.serve_ns / 1e3 / (double)st.handled : 0.0);
}

/* Stop serving the domain: afterwards nothing calls vgpu_mmio for it. */
static void stop_server(struct xen_attachment *a)
{
	log_server_stats(a);
	xen_ioreq_server_stop(a->srv);
	a->srv = NULL;
	if (xb.xd)
		xen_domains_forget_server(xb.xd, a->domid);
}

/* The daemon destroys or resets the vGPU: drop the domain first. */
static void detach_hook(void *arg)
{
	struct xen_attachment *a = arg;

	gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u loses vGPU '%s'", a->domid, a->vgpu_name);
	stop_server(a);
	unlink_att(a);
	free(a);
}

/* Detach on our side, then destroy the vGPU (detach, death, shutdown of the backend). */
static void drop(struct xen_attachment *a, bool destroy_vgpu)
{
	char err[CTL_ERR_MAX];

	stop_server(a);
	vgpu_detach(a->v);
	if (destroy_vgpu && daemon_destroy_vgpu(xb.d, a->vgpu_name, err, sizeof(err)))
		gpuvm_log(GPUVM_LOG_WARN, "xen: destroying vGPU '%s': %s", a->vgpu_name, err);
	unlink_att(a);
	free(a);
}

static struct xen_attachment *find_domid(unsigned domid)
{
	for (struct xen_attachment *a = xb.list; a; a = a->next)
		if (a->domid == domid)
			return a;
	return NULL;
}

static void pick_vgpu_name(const struct xen_domain_info *info, char *out)
{
	char err[CTL_ERR_MAX];

	size_t len = strlen(info->name);

	/* ctl_check_name limits it to VGPU_NAME_MAX - 1 characters. */
	if (len && !ctl_check_name(info->name, err, sizeof(err)) &&
	    !daemon_find_vgpu(xb.d, info->name) && len < VGPU_NAME_MAX)
		memcpy(out, info->name, len + 1);
	else
		snprintf(out, VGPU_NAME_MAX, "dom%u", info->domid);
}

static int xb_attach(struct gpuvmd *d, const struct backend_attach *req, char *vgpu_name,
		     char *err, size_t errlen)
{
	struct xen_domain_info info;
	struct xen_ioreq_server_config scfg = { 0 };
	struct vgpu_config cfg = req->cfg;
	struct xen_attachment *a;
	const char *bdf = req->bdf && *req->bdf ? req->bdf : XEN_DEFAULT_BDF;

	if (xen_vpci_parse_sbdf(bdf, &scfg.pci.sbdf)) {
		snprintf(err, errlen, "bad PCI address '%s' (expected BB:DD.F or DDDD:BB:DD.F)", bdf);
		return -1;
	}
	if (xen_domain_resolve(xb.xd, req->domain, &info, err, errlen))
		return -1;
	if (info.type == XEN_GUEST_PV) {
		snprintf(err, errlen, "domain %u is a PV guest: a vGPU needs an HVM or PVH guest "
			 "(PV guests have no emulated PCI devices)", info.domid);
		return -1;
	}
	a = find_domid(info.domid);
	if (a) {
		snprintf(err, errlen, "domain %u already has vGPU '%s'", info.domid, a->vgpu_name);
		return -1;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->domid = info.domid;
	snprintf(a->domain, sizeof(a->domain), "%s", info.name);
	pick_vgpu_name(&info, a->vgpu_name);
	snprintf(cfg.name, sizeof(cfg.name), "%s", a->vgpu_name);
	a->v = daemon_create_vgpu(d, &cfg, err, errlen);
	if (!a->v) {
		free(a);
		return -1;
	}
	if (vgpu_attach(a->v, detach_hook, a)) {
		snprintf(err, errlen, "vGPU '%s' is already attached", a->vgpu_name);
		goto undo_vgpu;
	}
	scfg.pci.pv_bar_size = GPUVM_PV_REGS_SIZE;     /* the PV register page, in slot 5 */
	scfg.domid = info.domid;
	scfg.nvcpus = info.nvcpus;
	scfg.claim_cf8 = info.type == XEN_GUEST_PVH;
	scfg.mmio = xb_mmio;
	scfg.mmio_arg = a->v;
	a->srv = xen_ioreq_server_start(&scfg, err, errlen);
	if (!a->srv) {
		vgpu_detach(a->v);
		goto undo_vgpu;
	}
	xen_domains_record_server(xb.xd, a->domid, xen_ioreq_server_id(a->srv));
	a->next = xb.list;
	xb.list = a;
	snprintf(vgpu_name, VGPU_NAME_MAX, "%s", a->vgpu_name);
	gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u (%s, %s) has vGPU '%s' at %s", info.domid,
		  info.name[0] ? info.name : "?", info.type == XEN_GUEST_PVH ? "PVH" : "HVM",
		  a->vgpu_name, bdf);
	return 0;

undo_vgpu:
	{
		char e2[CTL_ERR_MAX];

		daemon_destroy_vgpu(d, a->vgpu_name, e2, sizeof(e2));
	}
	free(a);
	return -1;
}

static int xb_detach(struct gpuvmd *d, const char *domain, char *err, size_t errlen)
{
	struct xen_attachment *a = NULL;
	char *end;
	unsigned long id = strtoul(domain, &end, 10);

	(void)d;
	if (*domain && !*end)
		a = find_domid((unsigned)id);
	for (struct xen_attachment *i = xb.list; !a && i; i = i->next)
		if (!strcmp(i->domain, domain) || !strcmp(i->vgpu_name, domain))
			a = i;
	if (!a) {
		snprintf(err, errlen, "domain '%s' has no vGPU", domain);
		return -1;
	}
	gpuvm_log(GPUVM_LOG_INFO, "xen: detaching vGPU '%s' from dom%u", a->vgpu_name, a->domid);
	drop(a, true);
	return 0;
}

/* @releaseDomain: a domain died; free the vGPUs of those that are gone. */
static void xb_xs_ready(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct xen_attachment *a, *next;

	(void)d;
	(void)fd;
	(void)revents;
	(void)arg;
	if (!xen_domains_release_fired(xb.xd))
		return;
	for (a = xb.list; a; a = next) {
		next = a->next;
		if (xen_domain_alive(xb.xd, a->domid))
			continue;
		gpuvm_log(GPUVM_LOG_INFO, "xen: dom%u is gone; destroying its vGPU '%s'", a->domid,
			  a->vgpu_name);
		drop(a, true);
	}
}

static void destroy_stale(void *arg, unsigned domid, unsigned servid)
{
	(void)arg;
	if (xen_ioreq_server_destroy_stale(domid, servid))
		gpuvm_log(GPUVM_LOG_WARN, "xen: stale ioreq server %u of dom%u: %s", servid, domid,
			  strerror(errno));
	else
		gpuvm_log(GPUVM_LOG_INFO, "xen: destroyed ioreq server %u that an earlier gpuvmd "
			  "left on dom%u", servid, domid);
}

static int xb_start(struct gpuvmd *d, const char *socket_path, char *err, size_t errlen)
{
	char why[CTL_ERR_MAX];

	(void)socket_path;      /* guests are domains, not socket clients */
	if (xb.d) {
		snprintf(err, errlen, "the Xen backend is already running");
		return -1;
	}
	xb.xd = xen_domains_open(why, sizeof(why));
	if (!xb.xd) {
		snprintf(err, errlen, "backend 'xen': %s", why);
		return -1;
	}
	xen_domains_take_stale(xb.xd, destroy_stale, NULL);
	xb.xs_fd = xen_domains_fd(xb.xd);
	if (xen_domains_watch_release(xb.xd) ||
	    daemon_watch_fd(d, xb.xs_fd, POLLIN, xb_xs_ready, NULL)) {
		snprintf(err, errlen, "backend 'xen': cannot watch @releaseDomain");
		xen_domains_close(xb.xd);
		xb.xd = NULL;
		xb.xs_fd = -1;
		return -1;
	}
	xb.d = d;
	gpuvm_log(GPUVM_LOG_INFO, "xen backend: attach domains with 'gpuvmctl attach DOMAIN'");
	return 0;
}

static void xb_stop(struct gpuvmd *d)
{
	if (xb.d != d)
		return;
	while (xb.list)
		drop(xb.list, false);   /* the daemon destroys the vGPUs next */
	daemon_unwatch_fd(d, xb.xs_fd);
	xen_domains_close(xb.xd);
	xb.xd = NULL;
	xb.xs_fd = -1;
	xb.d = NULL;
}

const struct trap_backend_ops xen_backend_ops = {
	.name = "xen",
	.start = xb_start,
	.stop = xb_stop,
	.attach = xb_attach,
	.detach = xb_detach,
};
